/*
 * Issue 21: an admission nobody uses comes back to the room soon. An admission first runs for the
 * room's confirm window and runs the whole `admissionSeconds` once its shopper has been told
 * (queue/me); `DELETE …/queue/me` gives it back at once. Against the real API, worker, Temporal
 * and Postgres; docs/DESIGN.md, "Waiting room".
 */
import type { Pool } from 'pg';
import { joinQueue, leaveQueue, type QueueTicket } from '../../clients/waiting-room-client';
import { shopperToken, type ApiAnswer, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitFor, type SaleAnswer } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ apiEnv: { RATE_LIMIT_QUEUE_PER_SHOPPER: '0' } }, 128));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

const CONFIRM_SECONDS = 5;
const ADMISSION_SECONDS = 120;

async function roomSale(units: number, admitPerSecond = 5): Promise<SaleAnswer> {
  const answer = await api.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'XPHONE-15',
      name: 'XPhone 15',
      units,
      priceCents: 99_900,
      currency: 'EUR',
      waitingRoom: { admitPerSecond, admissionSeconds: ADMISSION_SECONDS, confirmSeconds: CONFIRM_SECONDS, powDifficulty: 0 },
    },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const me = (saleId: string, token: string) => api.get(`/v1/sales/${saleId}/queue/me`, token);
const leave = (saleId: string, token: string) => api.delete(`/v1/sales/${saleId}/queue/me`, token);
const claim = (saleId: string, token: string, ticket: QueueTicket) =>
  api.post(`/v1/sales/${saleId}/reservations`, { token, headers: { 'queue-ticket': ticket.ticket } });
const code = (answer: ApiAnswer) => String(answer.body.type ?? '').replace(/^.*\//, '');
const violations = async (saleId: string) =>
  (await api.get<{ violations: unknown[] }>(`/v1/admin/sales/${saleId}/invariants`, TEST_SECRETS.ADMIN_TOKEN)).body.violations;

/** The ticket's row, read without asking the API (so the shopper has not been told anything). */
async function ticketRow(ticketId: string) {
  const { rows } = await db.query<{
    admitted_at: Date | null;
    admitted_until: Date | null;
    left_at: Date | null;
    confirm_ended: boolean;
  }>(
    `select t.admitted_at, t.admitted_until, t.left_at,
            coalesce(now() > t.admitted_at + make_interval(secs => w.confirm_seconds), false) as confirm_ended
     from queue_tickets t join waiting_rooms w on w.sale_id = t.sale_id where t.id = $1`,
    [ticketId],
  );
  return rows[0]!;
}

const admittedRow = (ticketId: string) =>
  waitFor(
    () => ticketRow(ticketId),
    (r) => r.admitted_at !== null,
    30_000,
    'admission',
  );
const serving = async (saleId: string) =>
  (
    await db.query<{ serving: number; step: string | null }>(
      'select serving, last_step_key as step from waiting_rooms where sale_id = $1',
      [saleId],
    )
  ).rows[0]!;

async function shoppers(saleId: string, names: string[]): Promise<Array<{ token: string; ticket: QueueTicket }>> {
  const joined = [];
  // One after the other: after the start, arrivals queue FIFO, so the order of `names` is the queue's.
  for (const name of names) {
    const token = await shopperToken(`${name}-${saleId}`);
    joined.push({ token, ticket: await joinQueue(app.apiUrl, saleId, token) });
  }
  return joined;
}

test('the sale shows its confirm window; one longer than the admission is a 400', async () => {
  const sale = await roomSale(1);
  expect(sale).toMatchObject({ waitingRoom: { admissionSeconds: ADMISSION_SECONDS, confirmSeconds: CONFIRM_SECONDS } });
  const defaults = await api.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'X',
      name: 'X',
      units: 1,
      priceCents: 1,
      currency: 'EUR',
      waitingRoom: { admitPerSecond: 1, admissionSeconds: 10 },
    },
  });
  expect(defaults.body).toMatchObject({ waitingRoom: { admissionSeconds: 10, confirmSeconds: 10 } });
  const refused = await api.post('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'X',
      name: 'X',
      units: 1,
      priceCents: 1,
      currency: 'EUR',
      waitingRoom: { admitPerSecond: 1, admissionSeconds: 30, confirmSeconds: 31 },
    },
  });
  expect([refused.status, code(refused)]).toEqual([400, 'invalid-request']);
  expect(refused.contentType).toContain('application/problem+json');
});

test('an admitted shopper who never looks comes back to the room after the confirm window; the next is admitted', async () => {
  const sale = await roomSale(1);
  const [alice, bob] = await shoppers(sale.id, ['alice', 'bob']);
  // Alice is admitted and never asks; one unit, so Bob waits while her admission runs.
  const admitted = await admittedRow(alice!.ticket.ticketId);
  expect(admitted.admitted_until!.getTime() - admitted.admitted_at!.getTime()).toBe(CONFIRM_SECONDS * 1000);
  const bobs = await waitFor(
    () => me(sale.id, bob!.token),
    (a) => a.body.status === 'admitted',
    30_000,
    'the next admission',
  );
  const bobAdmittedAt = (await ticketRow(bob!.ticket.ticketId)).admitted_at!;
  // Bob came after Alice's confirm window, long before her whole admission would have ended.
  expect(bobAdmittedAt.getTime()).toBeGreaterThanOrEqual(admitted.admitted_until!.getTime());
  expect(bobAdmittedAt.getTime()).toBeLessThan(admitted.admitted_at!.getTime() + ADMISSION_SECONDS * 1000);
  // Told "admitted", Bob's admission runs the whole admissionSeconds.
  expect(Date.parse(String(bobs.body.admittedUntil))).toBe(bobAdmittedAt.getTime() + ADMISSION_SECONDS * 1000);

  const refused = await claim(sale.id, alice!.token, alice!.ticket);
  expect([refused.status, code(refused), refused.body.queueStatus]).toEqual([403, 'not-admitted', 'expired']);
  expect((await me(sale.id, alice!.token)).body).toMatchObject({ status: 'expired' });
  expect((await claim(sale.id, bob!.token, bob!.ticket)).status).toBe(201);
  expect(await violations(sale.id)).toEqual([]);
});

test('a shopper who looks once keeps the whole admission and claims after the confirm window', async () => {
  const sale = await roomSale(1);
  const [alice, bob] = await shoppers(sale.id, ['alice', 'bob']);
  const view = await waitFor(
    () => me(sale.id, alice!.token),
    (a) => a.body.status === 'admitted',
    30_000,
    'admission',
  );
  const row = await ticketRow(alice!.ticket.ticketId);
  expect(row.admitted_until!.getTime()).toBe(row.admitted_at!.getTime() + ADMISSION_SECONDS * 1000);
  expect(view.body.admittedUntil).toBe(row.admitted_until!.toISOString());
  // Past the confirm window (by the database clock), and a few admission steps later: Bob still waits.
  const stepAtEnd =
    (await waitFor(
      () => ticketRow(alice!.ticket.ticketId),
      (r) => r.confirm_ended,
      30_000,
      'confirm window',
    )) && Number((await serving(sale.id)).step);
  await waitFor(
    () => serving(sale.id),
    (s) => Number(s.step) >= stepAtEnd + 3_000,
    30_000,
    'three more steps',
  );
  expect((await serving(sale.id)).serving).toBe(1);
  expect((await me(sale.id, bob!.token)).body).toMatchObject({ status: 'waiting' });
  expect((await claim(sale.id, alice!.token, alice!.ticket)).status).toBe(201);
  expect(await violations(sale.id)).toEqual([]);
});

test('DELETE queue/me gives an admission back at once and takes a waiting shopper out; idempotent; problem+json', async () => {
  const sale = await roomSale(1);
  const [alice, bob, carol] = await shoppers(sale.id, ['alice', 'bob', 'carol']);
  await waitFor(
    () => me(sale.id, alice!.token),
    (a) => a.body.status === 'admitted',
    30_000,
    'admission',
  );
  // Carol leaves while waiting: she is never admitted live.
  expect(await leaveQueue(app.apiUrl, sale.id, carol!.token)).toMatchObject({ status: 'left', ticketId: carol!.ticket.ticketId });

  const left = await leave(sale.id, alice!.token);
  expect([left.status, left.body.status]).toEqual([200, 'left']);
  const leftAt = (await ticketRow(alice!.ticket.ticketId)).left_at!;
  expect((await leave(sale.id, alice!.token)).body).toMatchObject({ status: 'left' });
  expect((await ticketRow(alice!.ticket.ticketId)).left_at).toEqual(leftAt);

  // Bob is admitted next, well before Alice's confirm window (let alone her admission) would have ended.
  await waitFor(
    () => me(sale.id, bob!.token),
    (a) => a.body.status === 'admitted',
    30_000,
    'the next admission',
  );
  const aliceRow = await ticketRow(alice!.ticket.ticketId);
  expect((await ticketRow(bob!.ticket.ticketId)).admitted_at!.getTime()).toBeLessThan(
    aliceRow.admitted_at!.getTime() + ADMISSION_SECONDS * 1000,
  );
  const refused = await claim(sale.id, alice!.token, alice!.ticket);
  expect([refused.status, code(refused), refused.body.queueStatus]).toEqual([403, 'not-admitted', 'left']);
  expect((await me(sale.id, alice!.token)).body).toMatchObject({ status: 'left' });
  expect((await claim(sale.id, bob!.token, bob!.ticket)).status).toBe(201);

  const stranger = await leave(sale.id, await shopperToken(`stranger-${sale.id}`));
  expect([stranger.status, code(stranger)]).toEqual([404, 'not-found']);
  expect(stranger.contentType).toContain('application/problem+json');
  expect(await violations(sale.id)).toEqual([]);

  // The checker names a claim written past the API after its shopper left, and an admission stretched too far.
  await db.query(
    `insert into reservations (id, sale_id, unit_id, user_id, status, expires_at, created_at, released_at, workflow_started_at, queue_ticket_id)
     select gen_random_uuid(), sale_id, unit_id, $2, 'cancelled', now(), now(), now(), now(), $3 from reservations where sale_id = $1`,
    [sale.id, `carol-${sale.id}`, carol!.ticket.ticketId],
  );
  await db.query(`update queue_tickets set admitted_until = admitted_until + interval '1 hour' where id = $1`, [
    bob!.ticket.ticketId,
  ]);
  expect(await violations(sale.id)).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ detail: expect.stringContaining('was claimed after its shopper left the room') }),
      expect.objectContaining({ detail: `the admission of ticket ${bob!.ticket.ticketId} runs past admission_seconds` }),
    ]),
  );
});

test('a claim racing the give-back either claims (and the admission stays spent) or is refused and frees it, never both', async () => {
  const units = 12;
  const sale = await roomSale(units, 50);
  const first = await shoppers(
    sale.id,
    Array.from({ length: units }, (_, i) => `first-${i}`),
  );
  const next = await shoppers(
    sale.id,
    Array.from({ length: units }, (_, i) => `next-${i}`),
  );
  for (const s of first)
    await waitFor(
      () => me(sale.id, s.token),
      (a) => a.body.status === 'admitted',
      30_000,
      'admission',
    );
  // Each of the first shoppers claims and leaves at the same moment.
  const raced = await Promise.all(
    first.map(async (s) => (await Promise.all([claim(sale.id, s.token, s.ticket), leave(sale.id, s.token)]))[0]),
  );
  const claimed = raced.filter((a) => a.status === 201).length;
  expect(raced.map((a) => (a.status === 201 ? '201' : `${a.status} ${code(a)}`)).filter((s) => s !== '201')).toEqual(
    Array(units - claimed).fill('403 not-admitted'),
  );
  // Only the admissions given back unspent are handed on: as many of the next shoppers are
  // admitted as claims were refused (each told so, so none runs out during the test), no more.
  const admittedNext = async () => {
    const views = await Promise.all(next.map((s) => me(sale.id, s.token)));
    return { admitted: views.filter((a) => a.body.status === 'admitted').length, ...(await serving(sale.id)) };
  };
  const handedOn = await waitFor(admittedNext, (n) => n.admitted === units - claimed, 30_000, 'admissions handed on');
  await waitFor(
    () => serving(sale.id),
    (s) => Number(s.step) >= Number(handedOn.step) + 3_000,
    30_000,
    'three more steps',
  );
  expect(await admittedNext()).toMatchObject({ admitted: units - claimed, serving: units + (units - claimed) });
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from reservations r join queue_tickets t on t.id = r.queue_ticket_id
     where r.sale_id = $1 and t.left_at is not null and r.created_at >= t.left_at`,
    [sale.id],
  );
  expect(rows[0]!.n).toBe(0);
  expect(await violations(sale.id)).toEqual([]);
});
