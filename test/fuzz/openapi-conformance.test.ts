import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { joinQueue } from '../../clients/waiting-room-client';
import { apiClient, shopperToken } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { createTestSale } from '../helpers/sales';

/*
 * docs/openapi.yaml against the running API, by schemathesis (a schema-driven fuzzer, run as its
 * own process; installed by scripts/install-schemathesis.js). It generates valid and invalid
 * requests for every operation from the document, follows the ids it learns (a created sale, a
 * claimed reservation) and sends methods the document does not list; every answer's status,
 * content type, headers and body must be ones the document declares for that operation, and
 * none may be a 5xx. schemathesis_hooks.py puts real sales, reservations, a queue place, a
 * waitlist entry, an order-history cursor, fresh challenges and webhook signatures into part of the cases, so that every
 * operation gets cases past authentication and 404; the test fails if one gets no 2xx at all.
 */
const ROOT = path.resolve(__dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SCHEMATHESIS_BIN } = require('../../scripts/install-schemathesis.js') as { SCHEMATHESIS_BIN: string };
const RUN_SECONDS = 75;
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
  'missing_required_header',
  'unsupported_method',
  'ignored_auth',
];
jest.setTimeout(240_000);

let app: AppUnderTest | undefined;
let dir: string | undefined;

afterAll(async () => {
  await app?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function ensureSchemathesis(): void {
  if (existsSync(SCHEMATHESIS_BIN)) return;
  const install = spawnSync(process.execPath, [path.join(ROOT, 'scripts/install-schemathesis.js'), '--strict'], {
    stdio: 'inherit',
  });
  if (install.status !== 0 || !existsSync(SCHEMATHESIS_BIN))
    throw new Error(`schemathesis is not installed and could not be: run node scripts/install-schemathesis.js`);
}

function run(
  command: string,
  args: string[],
  cwd: string,
  timeoutMs: number,
  extraEnv: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const env = {
      ...process.env,
      ...extraEnv,
      NO_COLOR: '1',
      COLUMNS: '160',
      SCHEMATHESIS_HOOKS: path.join(__dirname, 'schemathesis_hooks.py'),
    };
    // In its own directory: schemathesis keeps state (.schemathesis/) in the working directory.
    const child = spawn(command, args, { cwd, env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

interface HarEntry {
  request: { method: string; url: string };
  response: { status: number };
}

/** Per operation of docs/openapi.yaml: cases sent with its method to its path, and how many got a 2xx. */
function casesPerOperation(har: { log: { entries: HarEntry[] } }): Map<string, { cases: number; ok: number }> {
  const document = YAML.parse(readFileSync(path.join(ROOT, 'docs/openapi.yaml'), 'utf8')) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
  };
  const operations = Object.entries(document.paths).flatMap(([template, methods]) =>
    Object.entries(methods).flatMap(([method, operation]) =>
      operation.operationId
        ? [
            {
              id: operation.operationId,
              method: method.toUpperCase(),
              pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]*')}$`),
            },
          ]
        : [],
    ),
  );
  const counts = new Map(operations.map((op) => [op.id, { cases: 0, ok: 0 }]));
  for (const { request, response } of har.log.entries) {
    const pathname = new URL(request.url).pathname;
    const operation = operations.find((op) => op.method === request.method && op.pattern.test(pathname));
    if (!operation) continue; // a method the document does not list (the unsupported_method check)
    const count = counts.get(operation.id)!;
    count.cases += 1;
    if (response.status >= 200 && response.status < 300) count.ok += 1;
  }
  return counts;
}

/** Real data the hooks put into generated cases (schemathesis_hooks.py): sales, reservations, a queue place, a waitlist entry. */
async function fuzzData(apiUrl: string, token: string): Promise<NodeJS.ProcessEnv> {
  const api = apiClient(apiUrl, 8);
  try {
    const plain = await createTestSale(api, { units: 50, holdSeconds: 300 });
    const room = await createTestSale(api, { units: 5, waitingRoom: { admitPerSecond: 100, powDifficulty: 0 } });
    const waitlist = await createTestSale(api, { units: 1, releasePolicy: 'waitlist' });
    const claim = async (saleId: string, shopperToken_: string) => {
      const answer = await api.post<{ id: string }>(`/v1/sales/${saleId}/reservations`, { token: shopperToken_ });
      if (answer.status !== 201) throw new Error(`claim: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body.id;
    };
    // Reservations of the fuzz shopper (one per sale), four for each operation that moves one on
    // and four that only reads see.
    const reservations: Record<string, string[]> = {};
    for (const pool of ['read', 'pay', 'cancel', 'supportCancel', 'extend'])
      for (let i = 0; i < 4; i++)
        (reservations[pool] ??= []).push(await claim((await createTestSale(api, { units: 2, holdSeconds: 300 })).id, token));
    await claim(waitlist.id, await shopperToken(`fuzz-buyer-${waitlist.id}`));
    const joined = await api.post(`/v1/sales/${waitlist.id}/waitlist`, { token });
    if (joined.status !== 201) throw new Error(`waitlist: ${joined.status} ${JSON.stringify(joined.body)}`);
    await joinQueue(apiUrl, room.id, token);
    // A real cursor of the fuzz shopper's order history (their 20 claims make several pages).
    const history = await api.get<{ nextCursor: string | null }>('/v1/me/reservations?limit=1', token);
    if (history.status !== 200 || !history.body.nextCursor)
      throw new Error(`order history: ${history.status} ${JSON.stringify(history.body)}`);
    return {
      FUZZ_API_URL: apiUrl,
      FUZZ_SHOPPER_TOKEN: token,
      FUZZ_WEBHOOK_SECRET: TEST_SECRETS.WEBHOOK_SECRET,
      FUZZ_PLAIN_SALE: plain.id,
      FUZZ_ROOM_SALE: room.id,
      FUZZ_WAITLIST_SALE: waitlist.id,
      FUZZ_RESERVATIONS: JSON.stringify(reservations),
      FUZZ_ORDER_CURSOR: history.body.nextCursor,
    };
  } finally {
    await api.close();
  }
}

test('schemathesis reaches every operation, finds no answer outside docs/openapi.yaml and no 5xx', async () => {
  ensureSchemathesis();
  // No per-shopper limits: otherwise most generated claims, payments, challenges and queue joins
  // would only meet the 429.
  app = await startAppUnderTest({
    env: { RATE_LIMIT_PER_SHOPPER: '0', RATE_LIMIT_QUEUE_PER_SHOPPER: '0', ADMIN_AUTH_FAILURES_PER_IP: '0' },
  });
  dir = mkdtempSync(path.join(os.tmpdir(), 'flash-sale-schemathesis-'));
  const token = await shopperToken('schemathesis', TEST_SECRETS.JWT_SECRET, '1h');
  const data = await fuzzData(app.apiUrl, token);
  const config = path.join(dir, 'schemathesis.toml');
  const har = path.join(dir, 'cases.har');
  writeFileSync(
    config,
    [
      // An event stream is read up to its first event, then closed.
      'max-stream-events = 1',
      // One bearer per security scheme of the document; schemathesis puts each where an operation asks for it.
      '[auth.openapi.shopperJwt]',
      `bearer = "${token}"`,
      '[auth.openapi.adminToken]',
      `bearer = "${TEST_SECRETS.ADMIN_TOKEN}"`,
      '',
    ].join('\n'),
  );
  const seed = process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 1_000_000));
  const args = [
    '--no-color',
    '--config-file',
    config,
    'run',
    path.join(ROOT, 'docs/openapi.yaml'),
    '--url',
    app.apiUrl,
    '--checks',
    CHECKS.join(','),
    '--phases',
    'examples,coverage,fuzzing,stateful',
    '--max-examples',
    '25',
    '--max-time',
    String(RUN_SECONDS),
    '--request-timeout',
    '30',
    // One worker: with two, hypothesis parses lambda sources (ast.parse) in two threads at once,
    // and CPython 3.11's AST builder keeps its recursion depth per interpreter, not per thread, so
    // the threads corrupt each other's count and a run dies with "SystemError: AST constructor
    // recursion depth mismatch" (seen with seeds 487951 and 879897).
    '--workers',
    '1',
    '--seed',
    seed,
    '--report',
    'har',
    '--report-har-path',
    har,
  ];
  const { code, output } = await run(SCHEMATHESIS_BIN, args, dir, (RUN_SECONDS + 90) * 1000, data);
  // schemathesis's own report is printed only when it failed: its closing line reads like a pytest summary.
  if (code !== 0)
    throw new Error(`schemathesis exited with ${code} (seed ${seed}, FUZZ_SEED replays it):\n${output.slice(-12_000)}`);
  const counts = casesPerOperation(JSON.parse(readFileSync(har, 'utf8')));
  const perOperation = [...counts].map(([id, { cases, ok }]) => `${id} ${ok}/${cases}`).join(', ');
  const total = [...counts.values()].reduce((sum, { cases }) => sum + cases, 0);
  console.log(`fuzz seed ${seed}: ${counts.size} operations, ${total} cases; 2xx of cases per operation: ${perOperation}`);
  const unreached = [...counts].filter(([, { ok }]) => ok === 0).map(([id]) => id);
  expect(unreached).toEqual([]);
});
