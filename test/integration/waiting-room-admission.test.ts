/*
 * Admission against the real processes, over two API processes (one Postgres, one Temporal): an
 * admission is spent by its first claim, whichever process takes it (issue 19, item 2), and on a
 * waiting-room sale with `releasePolicy: 'waitlist'` the queue is the waitlist, so a crowd that
 * never queued gets no unit however it asks (item 1). docs/DESIGN.md, "Waiting room".
 */
import type { Pool } from 'pg';
import { joinQueue, pollPosition, type QueueTicket } from '../../clients/waiting-room-client';
import { freePort } from '../../scripts/stack/free-port';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { apiClient, shopperToken, type ApiAnswer, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled } from '../helpers/payments';
import { waitFor, type SaleAnswer } from '../helpers/sales';

let app: AppUnderTest;
let api1: ApiClient;
let api2: ApiClient;
let db: Pool;
let api2Process: ServiceProcess;
let api2Url: string;

beforeAll(async () => {
  ({ app, api: api1, db } = await startIntegrationApp({ apiEnv: { RATE_LIMIT_QUEUE_PER_SHOPPER: '0' } }, 256));
  const port2 = await freePort();
  api2Process = serviceProcess({
    name: 'api-2',
    entry: 'api/server.ts',
    env: { ...app.env, RATE_LIMIT_QUEUE_PER_SHOPPER: '0', PORT: String(port2) },
    onLine: (line) => app.logs.push(`[api-2] ${line}`),
  });
  api2Process.start();
  api2Url = `http://127.0.0.1:${port2}`;
  await waitForHttp(`${api2Url}/readyz`, 60_000);
  api2 = apiClient(api2Url, 256);
}, 120_000);

afterAll(async () => {
  await api2?.close();
  await api2Process?.stop();
  await stopIntegrationApp({ app, api: api1, db });
});

interface Report {
  violations: Array<{ invariant: number | string; detail: string }>;
}

const apis = () => [api1, api2];
const code = (answer: ApiAnswer) => String(answer.body.type ?? '').replace(/^.*\//, '');
const statusAndCode = (answer: ApiAnswer) => `${answer.status} ${code(answer)}`.trim();
const claim = (client: ApiClient, saleId: string, token: string, ticket?: QueueTicket, headers: Record<string, string> = {}) =>
  client.post(`/v1/sales/${saleId}/reservations`, {
    token,
    headers: { ...headers, ...(ticket && { 'queue-ticket': ticket.ticket }) },
  });
const check = async (saleId: string) =>
  (await api1.get<Report>(`/v1/admin/sales/${saleId}/invariants`, TEST_SECRETS.ADMIN_TOKEN)).body;
const saleView = async (saleId: string) => (await api1.get<SaleAnswer>(`/v1/sales/${saleId}`)).body;
const serving = async (saleId: string) =>
  (await db.query<{ serving: number }>('select serving from waiting_rooms where sale_id = $1', [saleId])).rows[0]!.serving;

async function roomSale(body: Record<string, unknown>): Promise<SaleAnswer> {
  const answer = await api1.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: { sku: 'XPHONE-15', name: 'XPhone 15', priceCents: 99_900, currency: 'EUR', ...body },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const admitted = (saleId: string, token: string) =>
  waitFor(
    () => api1.get(`/v1/sales/${saleId}/queue/me`, token),
    (a) => a.body.status === 'admitted',
    30_000,
    'admission',
  );

test('an admission is spent by its first claim: claims again after a cancel or a decline are 403 admission-spent, on either API', async () => {
  const sale = await roomSale({
    units: 2,
    holdSeconds: 120,
    waitingRoom: { admitPerSecond: 5, admissionSeconds: 120, powDifficulty: 0 },
  });
  const [alice, bob, carol, dave] = await Promise.all(
    ['alice', 'bob', 'carol', 'dave'].map((n) => shopperToken(`${n}-${sale.id}`)),
  );
  const tickets: QueueTicket[] = [];
  for (const token of [alice!, bob!, carol!, dave!]) tickets.push(await joinQueue(app.apiUrl, sale.id, token));
  const [aliceTicket, bobTicket, carolTicket, daveTicket] = tickets;
  await admitted(sale.id, alice!);
  await admitted(sale.id, bob!);

  // Twenty claims at once with the one ticket, over both APIs: one unit, the rest already-reserved.
  const first = await Promise.all(
    Array.from({ length: 20 }, (_, i) => claim(apis()[i % 2]!, sale.id, alice!, aliceTicket, { 'idempotency-key': `a-${i}` })),
  );
  expect(first.map(statusAndCode).sort()).toEqual(['201', ...Array(19).fill('409 already-reserved')]);
  const held = first.find((a) => a.status === 201)!;
  const heldKey = `a-${first.indexOf(held)}`;
  expect((await api1.post(`/v1/reservations/${held.body.id}/cancel`, { token: alice! })).status).toBe(200);

  // Cancelled: the same ticket again, twenty at once over both APIs, never a second unit.
  const again = await Promise.all(Array.from({ length: 20 }, (_, i) => claim(apis()[i % 2]!, sale.id, alice!, aliceTicket)));
  expect(again.map(statusAndCode)).toEqual(Array(20).fill('403 admission-spent'));
  expect(again[0]!.contentType).toContain('application/problem+json');
  expect(again[0]!.body).toMatchObject({ reservationId: held.body.id });
  // A replay of the claim that spent it still answers that claim.
  const replay = await claim(api2, sale.id, alice!, aliceTicket, { 'idempotency-key': heldKey });
  expect([replay.status, replay.body.id]).toEqual([201, held.body.id]);

  // Declined: the admission is spent too.
  const bobs = await claim(api2, sale.id, bob!, bobTicket);
  expect(bobs.status).toBe(201);
  const paid = await api1.post(`/v1/reservations/${bobs.body.id}/payment`, {
    token: bob!,
    body: { paymentMethod: 'tok_chargeDeclined' },
  });
  expect(paid.status).toBe(202);
  expect((await waitUntilSettled(api1, String(bobs.body.id), bob!)).status).toBe('payment_failed');
  expect(statusAndCode(await claim(api1, sale.id, bob!, bobTicket))).toBe('403 admission-spent');

  // The two units that came back are the next shoppers': carol and dave are admitted and claim.
  for (const [token, ticket] of [
    [carol!, carolTicket!],
    [dave!, daveTicket!],
  ] as const) {
    await admitted(sale.id, token);
    const answer = await waitFor(
      () => claim(api1, sale.id, token, ticket),
      (a) => a.status === 201,
      10_000,
      'claim of a returned unit',
    );
    expect(answer.status).toBe(201);
  }
  expect(await check(sale.id)).toMatchObject({ violations: [] });

  // The checker names an admission spent twice (a second claim written past the API, as before this fix).
  await db.query(
    `insert into reservations (id, sale_id, unit_id, user_id, status, expires_at, created_at, released_at, workflow_started_at)
     select gen_random_uuid(), sale_id, unit_id, user_id, 'cancelled', now(), now(), now(), now() from reservations where id = $1`,
    [held.body.id],
  );
  expect((await check(sale.id)).violations).toContainEqual(
    expect.objectContaining({ detail: expect.stringContaining(`admission of alice-${sale.id} was spent by 2 claims`) }),
  );
});

test('a waitlist sale with a waiting room: its queue is the waitlist, and 200 shoppers who skip it get no unit while 200 queued ones move up', async () => {
  const units = 20;
  const cancels = 10;
  const sale = await roomSale({
    units,
    holdSeconds: 120,
    releasePolicy: 'waitlist',
    waitingRoom: { admitPerSecond: 50, admissionSeconds: 120, powDifficulty: 0 },
  });
  const queued = await Promise.all(Array.from({ length: 200 }, (_, i) => shopperToken(`queued-${i}-${sale.id}`)));
  const bypassers = await Promise.all(Array.from({ length: 200 }, (_, i) => shopperToken(`bypass-${i}-${sale.id}`)));
  const stop = new AbortController();
  let soldOut!: () => void;
  const soldOutSeen = new Promise<void>((resolve) => (soldOut = resolve));
  let bypassersJoined!: () => void;
  const allJoined = new Promise<void>((resolve) => (bypassersJoined = resolve));
  const answers: ApiAnswer[] = [];
  const record = (answer: ApiAnswer) => (answers.push(answer), answer);
  const bypasserAnswers = { claims: [] as string[], joins: [] as string[], offers: 0 };
  const holders: string[] = [];
  let cancelled = 0;
  let joinedCount = 0;

  const queuedShopper = async (token: string, i: number) => {
    const client = apis()[i % 2]!;
    const url = i % 2 === 0 ? app.apiUrl : api2Url;
    const ticket = await joinQueue(url, sale.id, token);
    let view;
    try {
      view = await pollPosition(url, sale.id, token, { signal: stop.signal });
    } catch {
      return 'still waiting';
    }
    if (view.status !== 'admitted') return view.status;
    const answer = record(await claim(client, sale.id, token, ticket));
    if (answer.status !== 201) return statusAndCode(answer);
    if (holders.push(token) <= cancels) {
      await allJoined;
      const done = record(await client.post(`/v1/reservations/${answer.body.id}/cancel`, { token }));
      if (done.status === 200) cancelled++;
      return 'cancelled';
    }
    return 'holds';
  };

  const bypasser = async (token: string, i: number) => {
    const client = apis()[i % 2]!;
    bypasserAnswers.claims.push(statusAndCode(record(await claim(client, sale.id, token))));
    await soldOutSeen;
    const joined = record(await client.post(`/v1/sales/${sale.id}/waitlist`, { token }));
    bypasserAnswers.joins.push(statusAndCode(joined));
    if (++joinedCount === bypassers.length) bypassersJoined();
    bypasserAnswers.claims.push(statusAndCode(record(await claim(client, sale.id, token))));
    if (joined.status !== 201 && joined.status !== 200) return;
    while (!stop.signal.aborted) {
      const entry = await client.get(`/v1/sales/${sale.id}/waitlist/me`, token);
      if (entry.body.status === 'offered') {
        bypasserAnswers.offers++;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  const started = Date.now();
  const crowd = Promise.all([Promise.all(queued.map(queuedShopper)), Promise.all(bypassers.map(bypasser))]);
  await waitFor(
    () => saleView(sale.id),
    (s) => s.held === units && s.available === 0,
    60_000,
    'every unit held by the first admitted',
  );
  soldOut();
  await allJoined;
  await waitFor(
    async () => cancelled,
    (n) => n === cancels,
    30_000,
    'cancels',
  );
  // Every cancelled unit is held again, by whoever the sale gave it to.
  const settled = await waitFor(
    async () =>
      (
        await db.query<{ held: number; cancelled: number }>(
          `select count(*) filter (where status = 'held')::int as held, count(*) filter (where status = 'cancelled')::int as cancelled
           from reservations where sale_id = $1`,
          [sale.id],
        )
      ).rows[0]!,
    (r) => r.held === units && r.cancelled === cancels,
    60_000,
    'the returned units held again',
  );
  stop.abort();
  const [outcomes] = await crowd;
  console.log(
    `waiting room + waitlist crowd: 200 queued, 200 bypassers over 2 APIs in ${Date.now() - started} ms; ` +
      `queued outcomes ${JSON.stringify(count(outcomes))}; bypasser waitlist joins ` +
      `${JSON.stringify(count(bypasserAnswers.joins))}, claims ${JSON.stringify(count(bypasserAnswers.claims))}, offers ${bypasserAnswers.offers}`,
  );

  const { rows: owners } = await db.query<{ user_id: string; origin: string }>(
    'select user_id, origin from reservations where sale_id = $1',
    [sale.id],
  );
  expect(owners.filter((r) => r.user_id.startsWith('bypass-'))).toEqual([]);
  expect(owners).toHaveLength(units + cancels);
  expect(settled).toEqual({ held: units, cancelled: cancels });
  expect(count(bypasserAnswers.joins)).toEqual({ '409 no-waitlist': bypassers.length });
  expect(count(bypasserAnswers.claims)).toEqual({ '403 not-admitted': 2 * bypassers.length });
  // The queue moved on: the cancelled units went to the next queued shoppers.
  expect(await serving(sale.id)).toBe(units + cancels);
  expect(answers.filter((a) => a.status >= 500)).toEqual([]);
  expect(await check(sale.id)).toMatchObject({ violations: [] });
}, 240_000);

function count(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
