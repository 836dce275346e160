import fc from 'fast-check';
import { Pool } from 'pg';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { forgedAuthorizations } from '../helpers/forged-tokens';
import { testInfra } from '../helpers/infra-env';
import { waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale } from '../helpers/sales';
import { settledFingerprint, stateFingerprint, type StateFingerprint } from '../helpers/state-fingerprint';
import { fuzzArbitraries, type FuzzWorld, type OwnedReservation } from './arbitraries';
import { answerProblems, describeRequest, fuzzClient, type FuzzRequest } from './fuzz-http';

/*
 * Thousands of requests that should change nothing — unauthorised, malformed, aimed at other
 * shoppers' reservations, forged webhooks — against the real API process. Each property sends
 * batches of IN_FLIGHT requests at once; every answer must be allowed for its request, never a
 * 5xx, and every error a complete problem+json. The database and the payment simulator's ledger
 * must be exactly as they were afterwards. FUZZ_SEED replays a run; FUZZ_SCALE multiplies it.
 */
const IN_FLIGHT = 32;
jest.setTimeout(180_000);
const SCALE = Number(process.env.FUZZ_SCALE ?? '1');
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;
let client: ReturnType<typeof fuzzClient>;
let arbitraries: ReturnType<typeof fuzzArbitraries>;
let before: StateFingerprint;

async function claim(saleId: string, shopper: string, idempotencyKey?: string): Promise<OwnedReservation> {
  const token = await shopperToken(shopper);
  const headers = idempotencyKey ? { 'idempotency-key': idempotencyKey } : undefined;
  const answer = await api.post<ReservationAnswer>(`/v1/sales/${saleId}/reservations`, { token, headers });
  if (answer.status !== 201) throw new Error(`claim failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  return { id: answer.body.id, saleId, token };
}

/** Two sold-out sales (one holding held, keyed and paid reservations, one a cancelled one), a scheduled sale. */
async function buildWorld(): Promise<FuzzWorld> {
  const run = Date.now().toString(36);
  const saleA = await createTestSale(api, { units: 3, holdSeconds: 3_600 });
  const saleC = await createTestSale(api, { units: 1, holdSeconds: 3_600 });
  const scheduled = await createTestSale(api, { units: 5, startsAt: new Date(Date.now() + 86_400_000).toISOString() });

  const held = await claim(saleA.id, `fuzz-held-${run}`);
  const keyed = { ...(await claim(saleA.id, `fuzz-keyed-${run}`, 'fuzz-checkout-1')), idempotencyKey: 'fuzz-checkout-1' };
  const paid = await claim(saleA.id, `fuzz-paid-${run}`);
  const pay = await api.post(`/v1/reservations/${paid.id}/payment`, { token: paid.token, body: { paymentMethod: 'tok_visa' } });
  if (pay.status !== 202) throw new Error(`payment failed: ${pay.status} ${JSON.stringify(pay.body)}`);
  expect((await waitUntilSettled(api, paid.id, paid.token)).status).toBe('paid');

  const cancelled = await claim(saleC.id, `fuzz-cancelled-${run}`);
  const cancel = await api.post(`/v1/reservations/${cancelled.id}/cancel`, { token: cancelled.token });
  if (cancel.status !== 200) throw new Error(`cancel failed: ${cancel.status}`);
  const filler = await claim(saleC.id, `fuzz-filler-${run}`);

  // Stranger subjects: anything a token may carry, from plain ids to unicode and control characters.
  const subjects = [
    ...fc.sample(fc.string({ unit: 'binary', minLength: 1, maxLength: 128 }), { numRuns: 120, seed: SEED ?? 1 }),
    ...fc.sample(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), { numRuns: 40, seed: SEED ?? 2 }),
    'a',
    ' ',
    'admin',
    "' or 1=1 --",
    '../../etc/passwd',
    'm'.repeat(128),
  ];
  // Subjects with control characters or lone surrogates are refused (401): they go with the forged tokens.
  const acceptable = (sub: string) => /^[^\p{Cc}\p{Cs}]+$/u.test(sub);
  const strangerTokens = await Promise.all(subjects.filter(acceptable).map((sub) => shopperToken(sub)));
  const refusedSubjects = await Promise.all(subjects.filter((sub) => !acceptable(sub)).map((sub) => shopperToken(sub)));
  const forged = await forgedAuthorizations(TEST_SECRETS.JWT_SECRET, await shopperToken(`fuzz-mallory-${run}`));
  return {
    soldOutSaleIds: [saleA.id, saleC.id],
    scheduledSaleId: scheduled.id,
    held: [held, filler],
    keyed,
    settled: [paid, cancelled],
    adminToken: TEST_SECRETS.ADMIN_TOKEN,
    webhookSecret: TEST_SECRETS.WEBHOOK_SECRET,
    forgedAuthorizations: [...Object.values(forged), ...refusedSubjects.map((token) => `Bearer ${token}`)],
    strangerTokens,
  };
}

beforeAll(async () => {
  // The limits are on (the middleware runs) but far above what the run sends.
  app = await startAppUnderTest({
    env: { RATE_LIMIT_PER_IP: '10000000', RATE_LIMIT_PER_SHOPPER: '10000000', ADMIN_AUTH_FAILURES_PER_IP: '0' },
  });
  api = apiClient(app.apiUrl, 16);
  db = new Pool({ connectionString: testInfra().databaseUrl, max: 2 });
  client = fuzzClient(app.apiUrl, IN_FLIGHT);
  arbitraries = fuzzArbitraries(await buildWorld());
  before = await settledFingerprint(db, app.psps.primary!.url);
}, 120_000);

afterAll(async () => {
  if (client) {
    const report = client.report();
    console.log(
      `fuzz: ${report.sent} requests; statuses ${JSON.stringify(report.statuses)}; 5xx ${Object.entries(report.statuses)
        .filter(([status]) => Number(status) >= 500)
        .reduce((sum, [, count]) => sum + count, 0)}\nper kind ${JSON.stringify(report.labels, null, 1)}`,
    );
    await client.close();
  }
  await api?.close();
  await db?.end();
  await app?.stop();
});

afterEach(async () => {
  // Nothing the fuzzer sends may change a row or a charge.
  expect(await stateFingerprint(db, app.psps.primary!.url)).toEqual(before);
});

async function fuzz(arbitrary: fc.Arbitrary<FuzzRequest>, requests: number): Promise<void> {
  const property = fc.asyncProperty(fc.array(arbitrary, { minLength: IN_FLIGHT, maxLength: IN_FLIGHT }), async (batch) => {
    const answers = await Promise.all(batch.map((request) => client.send(request)));
    const failures = batch.flatMap((request, i) =>
      answerProblems(request, answers[i]!).map(
        (problem) => `${problem}\n  request ${describeRequest(request)}\n  answer ${answers[i]!.text.slice(0, 300)}`,
      ),
    );
    if (failures.length > 0) {
      const serverLog = app.logs.filter((line) => line.startsWith('[api]')).slice(-4);
      throw new Error(`${failures.slice(0, 3).join('\n')}\n${serverLog.map((line) => line.slice(0, 600)).join('\n')}`);
    }
  });
  // fc.check rather than fc.assert: the counterexample is a batch of 32 requests, some of them 300 KB.
  const outcome = await fc.check(property, {
    numRuns: Math.ceil((requests * SCALE) / IN_FLIGHT),
    seed: SEED,
    // Bounds shrinking too (each step sends a whole batch); an interrupted shrink still reports its failure.
    interruptAfterTimeLimit: 60_000,
    markInterruptAsFailure: true,
  });
  if (outcome.failed) {
    const cause = outcome.errorInstance instanceof Error ? outcome.errorInstance.message : String(outcome.errorInstance);
    throw new Error(`replay with FUZZ_SEED=${outcome.seed} (path ${outcome.counterexamplePath}):\n${cause}`);
  }
}

test('POST /v1/sales: without the admin token, or with a body that does not validate', () => fuzz(arbitraries.createSale, 1_200));

test('GET /v1/sales/:id with any id and any headers', () => fuzz(arbitraries.getSale, 1_000));

test('claims that can take nothing: sold out, not started, unknown sale, bad tokens and keys, idempotent replays', () =>
  fuzz(arbitraries.claim, 2_000));

test("GET /v1/reservations/:id: forged tokens, other shoppers' ids, owners and admin", () =>
  fuzz(arbitraries.getReservation, 1_500));

test('payments: forged tokens, strangers, owners with invalid bodies, settled reservations', () =>
  fuzz(arbitraries.payment, 1_500));

test('cancels: forged tokens, strangers, settled reservations', () => fuzz(arbitraries.cancel, 1_200));

test('webhooks with forged, stale, future or missing signatures', () => fuzz(arbitraries.webhook, 1_200));

test('health routes answer 200 whatever the headers', () => fuzz(arbitraries.health, 300));

test('any method on any path', () => fuzz(arbitraries.anywhere, 800));
