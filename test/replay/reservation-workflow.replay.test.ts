import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/workflow-env';

/*
 * Histories recorded from earlier versions of the workflow (`npm run record:histories`) must
 * replay without a determinism error against the code as it is now. A change that breaks one
 * needs workflow versioning (patched()), not a re-recorded fixture.
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

test('a recorded history exists for every path, and for the admission and retention purge workflows', () => {
  for (const name of [...RESERVATION_PATHS, 'admission-first-run', 'admission-after-continue-as-new', 'retention-purge'])
    expect(files).toContain(`${name}.json`);
});

test.each(files)('%s replays deterministically', async (file) => {
  const history = historyFromJSON(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  await expect(
    Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`),
  ).resolves.toBeUndefined();
});
