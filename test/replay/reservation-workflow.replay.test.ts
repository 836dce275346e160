import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { testDataConverter } from '../helpers/temporal-client';
import { workflowBundle } from '../helpers/workflow-env';

/*
 * Histories recorded from earlier versions of the workflow (`npm run record:histories`) must
 * replay without a determinism error against the code as it is now. A change that breaks one
 * needs workflow versioning (patched()), not a re-recorded fixture. The replayer decodes as the
 * worker does, through the payload codec (test key): histories recorded since encryption hold only
 * `binary/encrypted` payloads, older ones plain JSON, which the codec passes through.
 */
const dir = path.join(__dirname, 'histories');

// Each replay starts and stops a worker; their state changes at INFO would bury the test output.
beforeAll(() => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
});
const files = readdirSync(dir).filter((file) => file.endsWith('.json'));

/* Every path of the reservation workflow, recorded by test/workflow (`npm run record:histories`). */
const RESERVATION_PATHS = [
  'paid-by-charge',
  'paid-by-webhook',
  'payment-declined',
  'expired-after-default-hold',
  'cancelled-by-shopper',
  'cancelled-by-support',
  'extended-then-expired',
  'extended-then-cancelled',
  'refund-refused',
  'payment-raced-by-support-cancel',
  'release-notice-refused',
  'outcome-notice-refused',
];

/* Recorded with the payload codec on: by test/integration/encrypted-history.test.ts from the real API and worker. */
const ENCRYPTED = ['paid-encrypted'];
const ENCRYPTED_ENCODING = Buffer.from('binary/encrypted').toString('base64');
const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');

test('a recorded history exists for every path, and for the admission and retention purge workflows', () => {
  for (const name of [...RESERVATION_PATHS, 'admission-first-run', 'admission-after-continue-as-new', 'retention-purge'])
    expect(files).toContain(`${name}.json`);
});

test.each(ENCRYPTED)('%s holds encrypted payloads only, and does not replay without the codec', async (name) => {
  const text = read(`${name}.json`);
  expect(text).toContain(ENCRYPTED_ENCODING);
  const encodings = [...text.matchAll(/"encoding":\s*"([^"]+)"/g)].map((match) =>
    Buffer.from(match[1]!, 'base64').toString('utf8'),
  );
  // json/plain only in search attributes, which Temporal indexes and no codec touches.
  expect(encodings.filter((encoding) => encoding === 'binary/encrypted').length).toBeGreaterThan(5);
  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(JSON.parse(text)), `plain-${name}`),
  ).rejects.toThrow();
});

test.each(files)('%s replays deterministically', async (file) => {
  const history = historyFromJSON(JSON.parse(read(file)));
  await expect(
    Worker.runReplayHistory(
      { workflowBundle: await workflowBundle(), dataConverter: testDataConverter() },
      history,
      `replay-${file}`,
    ),
  ).resolves.toBeUndefined();
});
