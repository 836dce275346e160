/*
 * What happens to a unit that comes back, per the sale's releasePolicy (docs/CONTRACT.md), against
 * the real API, worker, payment simulator, Postgres and Temporal: `undersell` withdraws it,
 * `waitlist` offers it as a new hold to the next waiting shopper, `relist` makes it available.
 */
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { testTemporalClient } from '../helpers/temporal-client';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale, waitFor, type SaleAnswer } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;
let connection: Connection;
let temporal: Client;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ env: { PG_POOL_MAX: '30' } }, 256));
  connection = await Connection.connect({ address: testInfra().temporalAddress });
  temporal = testTemporalClient(connection);
});

afterAll(async () => {
  await connection?.close();
  await stopIntegrationApp({ app, api, db });
});

interface WaitlistAnswer {
  saleId: string;
  status: string;
  position: number;
  joinedAt: string;
  reservationId?: string;
  expiresAt?: string;
}

interface Report {
  violations: Array<{ invariant: number; detail: string }>;
  releasePolicy: string;
  counts: Record<string, number>;
  waitlist?: { waiting: number; offered: number };
}

const claim = (saleId: string, token: string) => api.post<ReservationAnswer>(`/v1/sales/${saleId}/reservations`, { token });
const cancel = (id: string, token: string) => api.post<ReservationAnswer>(`/v1/reservations/${id}/cancel`, { token });
const pay = (id: string, token: string) =>
  api.post<ReservationAnswer>(`/v1/reservations/${id}/payment`, { token, body: { paymentMethod: 'tok_visa' } });
const join = (saleId: string, token: string) => api.post<WaitlistAnswer>(`/v1/sales/${saleId}/waitlist`, { token });
const me = (saleId: string, token: string) => api.get<WaitlistAnswer>(`/v1/sales/${saleId}/waitlist/me`, token);
const saleView = async (saleId: string) => (await api.get<SaleAnswer>(`/v1/sales/${saleId}`)).body;
const check = async (saleId: string) =>
  (await api.get<Report>(`/v1/admin/sales/${saleId}/invariants`, TEST_SECRETS.ADMIN_TOKEN)).body;
const tokensFor = (prefix: string, n: number) => Promise.all(Array.from({ length: n }, (_, i) => shopperToken(`${prefix}-${i}`)));
const problemCode = (body: unknown) => String((body as { type?: string }).type).replace(/^.*\//, '');

async function offerOf(saleId: string, token: string): Promise<WaitlistAnswer> {
  return waitFor(
    async () => (await me(saleId, token)).body,
    (entry) => entry.status === 'offered',
    30_000,
    'waitlist offer',
  );
}

describe('relist (the default)', () => {
  test('a released unit is available again, counts show no withdrawn units and the sale has no waitlist', async () => {
    const sale = await createTestSale(api, { units: 1 });
    expect(sale).toMatchObject({ releasePolicy: 'relist', withdrawn: 0 });
    expect(sale).not.toHaveProperty('waitlisted');
    const [holder, next] = await tokensFor(`relist-${sale.id}`, 2);
    const held = await claim(sale.id, holder!);
    expect((await cancel(held.body.id, holder!)).status).toBe(200);
    expect(await saleView(sale.id)).toMatchObject({ available: 1, held: 0, sold: 0, withdrawn: 0, status: 'live' });

    const noWaitlist = await join(sale.id, next!);
    expect(noWaitlist.status).toBe(409);
    expect(noWaitlist.contentType).toMatch(/^application\/problem\+json/);
    expect(problemCode(noWaitlist.body)).toBe('no-waitlist');
    expect((await me(sale.id, next!)).status).toBe(409);
    expect((await claim(sale.id, next!)).status).toBe(201);
  });

  test('a sale with an unknown releasePolicy is refused with a 400 problem', async () => {
    const bad = await api.post('/v1/sales', {
      token: TEST_SECRETS.ADMIN_TOKEN,
      body: { sku: 'X', name: 'X', units: 1, priceCents: 100, currency: 'EUR', releasePolicy: 'auction' },
    });
    expect(bad.status).toBe(400);
    expect(String(bad.body.detail)).toContain('releasePolicy');
  });
});

describe('undersell', () => {
  test('cancelled and expired holds withdraw their units for good; counts and the checker agree', async () => {
    // Long enough for the payment and the cancel to land inside the hold on a busy machine.
    const sale = await createTestSale(api, { units: 3, holdSeconds: 6, releasePolicy: 'undersell' });
    expect(sale).toMatchObject({ releasePolicy: 'undersell', withdrawn: 0 });
    const [cancelling, expiring, buying, latecomer] = await tokensFor(`undersell-${sale.id}`, 4);
    const [c, e, b] = await Promise.all([claim(sale.id, cancelling!), claim(sale.id, expiring!), claim(sale.id, buying!)]);
    expect([c.status, e.status, b.status]).toEqual([201, 201, 201]);
    const [paid, cancelled] = await Promise.all([pay(b!.body.id, buying!), cancel(c!.body.id, cancelling!)]);
    expect({ status: paid.status, body: paid.body }).toMatchObject({ status: 202 });
    expect({ status: cancelled.status, body: cancelled.body }).toMatchObject({ status: 200 });

    const settled = await waitFor(
      () => saleView(sale.id),
      (s) => s.held === 0,
      30_000,
      'the expiring hold released',
    );
    expect(settled).toMatchObject({ available: 0, held: 0, sold: 1, withdrawn: 2, status: 'sold_out' });
    expect((await api.get<ReservationAnswer>(`/v1/reservations/${e!.body.id}`, expiring)).body.status).toBe('expired');

    const { rows } = await db.query<{ id: number; status: string; reservation_id: string | null }>(
      `select id, status, reservation_id from units where sale_id = $1 order by id`,
      [sale.id],
    );
    const withdrawn = rows.filter((u) => u.status === 'withdrawn');
    expect(withdrawn.map((u) => u.id).sort()).toEqual([c!.body.unitId, e!.body.unitId].sort());
    expect(withdrawn.every((u) => u.reservation_id === null)).toBe(true);

    // Never sold again: not to a newcomer, not to the shoppers who gave them back.
    for (const token of [latecomer!, cancelling!, expiring!]) {
      const again = await claim(sale.id, token);
      expect(again.status).toBe(409);
      expect(problemCode(again.body)).toBe('sold-out');
    }
    expect(problemCode((await join(sale.id, latecomer!)).body)).toBe('no-waitlist');

    const report = await check(sale.id);
    expect(report.violations).toEqual([]);
    expect(report.releasePolicy).toBe('undersell');
    expect(report.counts).toEqual({ units: 3, available: 0, held: 0, sold: 1, withdrawn: 2 });
  });

  test('the checker names a withdrawn unit on a sale that may not withdraw, and units that do not add up', async () => {
    const relist = await createTestSale(api, { units: 2 });
    await db.query(`update units set status = 'withdrawn' where sale_id = $1 and id = 1`, [relist.id]);
    const report = await check(relist.id);
    expect(report.violations).toEqual([
      { invariant: 1, detail: expect.stringMatching(/1 units withdrawn from a sale whose releasePolicy is relist/) },
    ]);

    const undersell = await createTestSale(api, { units: 2, releasePolicy: 'undersell' });
    await db.query(`update units set status = 'withdrawn' where sale_id = $1 and id = 1`, [undersell.id]);
    expect((await check(undersell.id)).violations).toEqual([]);
    await db.query(`delete from units where sale_id = $1 and id = 2`, [undersell.id]);
    expect((await check(undersell.id)).violations).toEqual([
      { invariant: 1, detail: 'available 0 + held 0 + sold 0 + withdrawn 1 ≠ units 2 (rows 1)' },
    ]);
  });
});

describe('waitlist', () => {
  test('joining: only once sold out, not while holding a unit, one entry per shopper, positions FIFO', async () => {
    const sale = await createTestSale(api, { units: 2, releasePolicy: 'waitlist' });
    expect(sale).toMatchObject({ releasePolicy: 'waitlist', withdrawn: 0, waitlisted: 0 });
    const [h1, h2, a, b, c] = await tokensFor(`wl-join-${sale.id}`, 5);

    const early = await join(sale.id, a!);
    expect(early.status).toBe(409);
    expect(problemCode(early.body)).toBe('units-available');
    expect((await me(sale.id, a!)).status).toBe(404);

    const held = await claim(sale.id, h1!);
    expect((await claim(sale.id, h2!)).status).toBe(201);
    const holding = await join(sale.id, h1!);
    expect(holding.status).toBe(409);
    expect(holding.body).toMatchObject({ reservationId: held.body.id });
    expect(problemCode(holding.body)).toBe('already-reserved');

    const joined = [];
    for (const token of [a!, b!, c!]) joined.push(await join(sale.id, token));
    expect(joined.map((j) => j.status)).toEqual([201, 201, 201]);
    expect(joined.map((j) => [j.body.status, j.body.position])).toEqual([
      ['waiting', 1],
      ['waiting', 2],
      ['waiting', 3],
    ]);
    const again = await join(sale.id, a!);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(joined[0]!.body);
    expect((await me(sale.id, b!)).body).toMatchObject({ status: 'waiting', position: 2 });
    expect(await saleView(sale.id)).toMatchObject({ available: 0, held: 2, waitlisted: 3, status: 'sold_out' });
    expect((await api.get(`/v1/sales/${sale.id}/waitlist/me`)).status).toBe(401);
    expect((await api.post(`/v1/sales/${sale.id}/waitlist`, { token: TEST_SECRETS.ADMIN_TOKEN })).status).toBe(401);
  });

  test('1,000 shoppers joining at once each get one entry; their positions are exactly 1 to 1,000 in joining order', async () => {
    const sale = await createTestSale(api, { units: 1, releasePolicy: 'waitlist' });
    const [holder] = await tokensFor(`wl-crowd-join-h-${sale.id}`, 1);
    expect((await claim(sale.id, holder!)).status).toBe(201);
    const tokens = await tokensFor(`wl-crowd-join-${sale.id}`, 1_000);
    const started = performance.now();
    const answers = await Promise.all(tokens.map((token) => join(sale.id, token)));
    const elapsedMs = performance.now() - started;
    expect(answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${JSON.stringify(a.body)}`)).toEqual([]);
    // A join answers its position as of its own commit; once all have committed, /me is exact.
    const positions = await Promise.all(tokens.map(async (token) => (await me(sale.id, token)).body.position));
    expect([...positions].sort((a, b) => a - b)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    const { rows } = await db.query<{ user_id: string }>(`select user_id from waitlist_entries where sale_id = $1 order by id`, [
      sale.id,
    ]);
    const byJoinOrder = rows.map((r) => positions[Number(r.user_id.slice(r.user_id.lastIndexOf('-') + 1))]);
    expect(byJoinOrder).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect((await saleView(sale.id)).waitlisted).toBe(1_000);
    console.log(`waitlist: 1,000 concurrent joins answered in ${Math.round(elapsedMs)} ms`);
  });

  test('a cancelled hold becomes the first waiter’s reservation: its workflow runs and it can be paid', async () => {
    const sale = await createTestSale(api, { units: 1, releasePolicy: 'waitlist' });
    const [holder, first, second] = await tokensFor(`wl-offer-${sale.id}`, 3);
    const held = await claim(sale.id, holder!);
    expect((await join(sale.id, first!)).status).toBe(201);
    expect((await join(sale.id, second!)).status).toBe(201);

    expect((await cancel(held.body.id, holder!)).status).toBe(200);
    const offer = await me(sale.id, first!);
    expect(offer.body).toMatchObject({ status: 'offered', position: 0, reservationId: expect.any(String) });
    const offered = await api.get<ReservationAnswer & { origin?: string; expiresAt: string; unitId: number }>(
      `/v1/reservations/${offer.body.reservationId}`,
      first,
    );
    expect(offered.body).toMatchObject({ status: 'held', origin: 'waitlist', unitId: held.body.unitId });
    expect(offered.body.expiresAt).toBe(offer.body.expiresAt);
    // Its own hold: the sale's 300 s from the offer, not what was left of the cancelled one.
    expect(Date.parse(offered.body.expiresAt) - Date.now()).toBeGreaterThan(290_000);
    expect((await me(sale.id, second!)).body).toMatchObject({ status: 'waiting', position: 1 });
    expect(await saleView(sale.id)).toMatchObject({ available: 0, held: 1, waitlisted: 1 });

    // The outbox relay starts the offer's workflow like a claim's.
    const handle = temporal.workflow.getHandle(reservationWorkflowId(offer.body.reservationId!));
    await waitFor(
      () =>
        handle.describe().then(
          (d) => d.status.name,
          () => 'NOT_FOUND',
        ),
      (status) => status === 'RUNNING',
      20_000,
      'offer workflow running',
    );
    expect((await pay(offer.body.reservationId!, first!)).status).toBe(202);
    expect((await waitUntilSettled(api, offer.body.reservationId!, first!)).status).toBe('paid');
    expect((await me(sale.id, first!)).body).toMatchObject({ status: 'purchased', position: 0 });
    expect(await saleView(sale.id)).toMatchObject({ available: 0, held: 0, sold: 1, waitlisted: 1 });
    expect((await check(sale.id)).violations).toEqual([]);
  });

  test('an offer that expires passes to the next waiter; with nobody left the unit is available again', async () => {
    const sale = await createTestSale(api, { units: 1, holdSeconds: 2, releasePolicy: 'waitlist' });
    const [holder, first, second, later] = await tokensFor(`wl-pass-${sale.id}`, 4);
    const held = await claim(sale.id, holder!);
    await join(sale.id, first!);
    await join(sale.id, second!);
    expect((await cancel(held.body.id, holder!)).status).toBe(200);
    const firstOffer = await offerOf(sale.id, first!);

    const secondOffer = await offerOf(sale.id, second!);
    expect((await me(sale.id, first!)).body).toMatchObject({ status: 'offer-expired', reservationId: firstOffer.reservationId });
    expect(secondOffer.reservationId).not.toBe(firstOffer.reservationId);
    expect((await api.get<ReservationAnswer>(`/v1/reservations/${firstOffer.reservationId}`, first)).body.status).toBe('expired');
    expect((await cancel(secondOffer.reservationId!, second!)).status).toBe(200);
    expect((await me(sale.id, second!)).body.status).toBe('offer-cancelled');

    expect(await saleView(sale.id)).toMatchObject({ available: 1, held: 0, waitlisted: 0, status: 'live' });
    expect(problemCode((await join(sale.id, later!)).body)).toBe('units-available');
    expect((await claim(sale.id, later!)).status).toBe(201);
    expect((await check(sale.id)).violations).toEqual([]);
  });

  test('offers follow the order of joining', async () => {
    const sale = await createTestSale(api, { units: 3, releasePolicy: 'waitlist' });
    const holders = await tokensFor(`wl-fifo-h-${sale.id}`, 3);
    const waiters = await tokensFor(`wl-fifo-w-${sale.id}`, 5);
    const holds = await Promise.all(holders.map((t) => claim(sale.id, t)));
    for (const token of waiters) expect((await join(sale.id, token)).status).toBe(201);
    for (const [i, hold] of holds.entries()) {
      expect((await cancel(hold.body.id, holders[i]!)).status).toBe(200);
      expect((await me(sale.id, waiters[i]!)).body.status).toBe('offered');
      for (const later of waiters.slice(i + 1)) expect((await me(sale.id, later)).body.status).toBe('waiting');
    }
    expect((await me(sale.id, waiters[3]!)).body.position).toBe(1);
    expect((await me(sale.id, waiters[4]!)).body.position).toBe(2);
  });

  test('a waiter who got a unit meanwhile is passed over; the unit goes to the next', async () => {
    const sale = await createTestSale(api, { units: 1, releasePolicy: 'waitlist' });
    const [holder, first, second] = await tokensFor(`wl-over-${sale.id}`, 3);
    const held = await claim(sale.id, holder!);
    await join(sale.id, first!);
    await join(sale.id, second!);
    // Plant what a race with a claim could leave: the first waiter holds a unit of the sale.
    await db.query(
      `insert into units (sale_id, id, stripe, status, reservation_id) values ($1, 2, 0, 'held', gen_random_uuid())`,
      [sale.id],
    );
    await db.query(
      `insert into reservations (id, sale_id, unit_id, user_id, status, expires_at, workflow_started_at)
       select reservation_id, sale_id, 2, $2, 'held', now() + interval '1 hour', now() from units where sale_id = $1 and id = 2`,
      [sale.id, `wl-over-${sale.id}-1`],
    );
    expect((await cancel(held.body.id, holder!)).status).toBe(200);
    expect((await me(sale.id, first!)).body).toMatchObject({ status: 'passed-over', position: 0 });
    expect((await me(sale.id, second!)).body.status).toBe('offered');
  });

  test('a crowd of waiters joining and claiming while holds are cancelled and offers expire never oversells', async () => {
    const units = 10;
    const sale = await createTestSale(api, { units, holdSeconds: 2, releasePolicy: 'waitlist' });
    const holders = await tokensFor(`wl-crowd-h-${sale.id}`, units);
    const crowd = await tokensFor(`wl-crowd-w-${sale.id}`, 40);
    const holds = await Promise.all(holders.map((t) => claim(sale.id, t)));
    expect(holds.every((h) => h.status === 201)).toBe(true);

    // At once: the crowd joins (and, when told units are available, claims), the holders cancel.
    const [joins] = await Promise.all([
      Promise.all(
        crowd.map(async (token) => {
          const answer = await join(sale.id, token);
          if (answer.status === 409 && problemCode(answer.body) === 'units-available')
            return { answer, claim: await claim(sale.id, token) };
          return { answer };
        }),
      ),
      Promise.all(holds.map((h, i) => cancel(h.body.id, holders[i]!))),
    ]);
    const unexpected = joins.filter(
      ({ answer }) => answer.status !== 201 && !(answer.status === 409 && problemCode(answer.body) === 'units-available'),
    );
    expect(unexpected.map(({ answer }) => `${answer.status} ${JSON.stringify(answer.body)}`)).toEqual([]);
    const joined = joins.filter(({ answer }) => answer.status === 201).length;

    // While offers expire and pass along, sample: never more live reservations than units, never
    // a shopper with two, never a unit available while someone waits, and the checker agrees.
    const samples: string[] = [];
    const sample = async () => {
      const { rows } = await db.query<{ live: number; shoppers: number; units_live: number; available: number; waiting: number }>(
        `select (select count(*)::int from reservations where sale_id = $1 and status in ('held', 'payment_pending', 'paid')) as live,
                (select count(distinct user_id)::int from reservations where sale_id = $1 and status in ('held', 'payment_pending', 'paid')) as shoppers,
                (select count(distinct unit_id)::int from reservations where sale_id = $1 and status in ('held', 'payment_pending', 'paid')) as units_live,
                (select count(*)::int from units where sale_id = $1 and status = 'available') as available,
                (select count(*)::int from waitlist_entries where sale_id = $1 and state = 'waiting') as waiting`,
        [sale.id],
      );
      const s = rows[0]!;
      if (s.live > units || s.shoppers !== s.live || s.units_live !== s.live) samples.push(`oversold ${JSON.stringify(s)}`);
      if (s.available > 0 && s.waiting > 0) samples.push(`available while waiting ${JSON.stringify(s)}`);
      const report = await check(sale.id);
      if (report.violations.length > 0) samples.push(JSON.stringify(report.violations));
      return s;
    };
    const drained = await waitFor(sample, (s) => s.waiting === 0 && s.live === 0, 120_000, 'waitlist drained');
    expect(samples).toEqual([]);
    expect(drained.available).toBe(units);

    const { rows: entries } = await db.query<{ state: string; n: number }>(
      `select state, count(*)::int as n from waitlist_entries where sale_id = $1 group by state`,
      [sale.id],
    );
    expect(entries).toEqual([{ state: 'offered', n: joined }]);
    const { rows: offers } = await db.query<{ offers: number; shoppers: number }>(
      `select count(*)::int as offers, count(distinct user_id)::int as shoppers from reservations where sale_id = $1 and origin = 'waitlist'`,
      [sale.id],
    );
    expect(offers[0]).toEqual({ offers: joined, shoppers: joined });
    expect((await check(sale.id)).violations).toEqual([]);
  });
});
