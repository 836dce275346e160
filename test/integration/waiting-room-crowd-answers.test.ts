/*
 * What a queued crowd is told (issue 21): when to poll again, by position; `sold-out` once nothing
 * can come back, by queue/me and by its stream; the shuffle's places reaching queue/me with one
 * read per API process, not one per shopper; and the last known place, not a 503, when Postgres
 * cannot be asked.
 */
import type { Pool } from 'pg';
import { joinQueue, type QueueTicket } from '../../clients/waiting-room-client';
import { nextPollSeconds, type QueuePositionView } from '../../domain/waiting-room';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled } from '../helpers/payments';
import { waitFor, type SaleAnswer } from '../helpers/sales';
import { openSse } from '../helpers/sse';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  // A short statement timeout, so the stalled-Postgres case below fails fast.
  ({ app, api, db } = await startIntegrationApp({ apiEnv: { PG_STATEMENT_TIMEOUT_MS: '1500' } }));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

async function roomSale(units: number, startsAt?: Date): Promise<SaleAnswer> {
  const answer = await api.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'XPHONE-15',
      name: 'XPhone 15',
      units,
      priceCents: 99_900,
      currency: 'EUR',
      ...(startsAt && { startsAt: startsAt.toISOString() }),
      waitingRoom: { admitPerSecond: 1, powDifficulty: 0 },
    },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const me = (saleId: string, token: string) => api.get<QueuePositionView>(`/v1/sales/${saleId}/queue/me`, token);

async function placeReads(): Promise<{ shopper: number; positions: number }> {
  const text = await (await fetch(`${app.apiUrl}/metrics`)).text();
  const count = (kind: string) =>
    Number(new RegExp(`^queue_place_reads_total\\{kind="${kind}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { shopper: count('shopper'), positions: count('positions') };
}

async function shoppers(saleId: string, n: number): Promise<{ tokens: string[]; tickets: QueueTicket[] }> {
  const tokens = await Promise.all(Array.from({ length: n }, (_, i) => shopperToken(`crowd-${saleId}-${i}`)));
  const tickets: QueueTicket[] = [];
  for (const token of tokens) tickets.push(await joinQueue(app.apiUrl, saleId, token)); // in order: FIFO after the start
  return { tokens, tickets };
}

test('queued shoppers are told when to poll again by position, and sold-out by queue/me and its stream once the last unit is sold', async () => {
  const sale = await roomSale(1);
  const { tokens, tickets } = await shoppers(sale.id, 3);
  await waitFor(
    () => me(sale.id, tokens[0]!),
    (a) => a.body.status === 'admitted',
    30_000,
    'first shopper admitted',
  );

  const last = await me(sale.id, tokens[2]!);
  expect(last.body).toMatchObject({ status: 'waiting', position: 3 });
  expect(last.body.nextPollSeconds).toBe(nextPollSeconds(last.body.estimatedWaitSeconds, 0, last.body.ticketId));
  expect(last.headers['retry-after']).toBe(String(last.body.nextPollSeconds));
  const stream = await openSse(`${app.apiUrl}/v1/sales/${sale.id}/queue/me/events`, { token: tokens[2] });

  const claim = await api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, {
    token: tokens[0],
    headers: { 'queue-ticket': tickets[0]!.ticket },
  });
  expect(claim.status).toBe(201);
  const pay = await api.post(`/v1/reservations/${claim.body.id}/payment`, {
    token: tokens[0],
    body: { paymentMethod: 'tok_visa' },
  });
  expect(pay.status).toBe(202);
  expect((await waitUntilSettled(api, claim.body.id, tokens[0]!)).status).toBe('paid');

  const told = await waitFor(
    () => me(sale.id, tokens[1]!),
    (a) => a.body.status === 'sold-out',
    10_000,
    'queue/me says sold-out',
  );
  expect(told.body).toMatchObject({ ticketId: tickets[1]!.ticketId, status: 'sold-out' });
  expect(told.body.nextPollSeconds).toBeUndefined();
  expect(told.headers['retry-after']).toBeUndefined();
  const pushed = await stream.next((e) => (e.data as QueuePositionView).status === 'sold-out', 10_000, 'sold-out on the stream');
  expect(pushed.data).toMatchObject({ ticketId: tickets[2]!.ticketId, status: 'sold-out' });
  stream.close();
  const room = await db.query('select sold_out_at from waiting_rooms where sale_id = $1', [sale.id]);
  const paidAt = await db.query('select paid_at from reservations where id = $1', [claim.body.id]);
  // Recorded by the transaction that sold the last unit (the same now()), not by a later admission step.
  expect(room.rows[0].sold_out_at).toEqual(paidAt.rows[0].paid_at);
  const report = await api.get(`/v1/admin/sales/${sale.id}/invariants`, TEST_SECRETS.ADMIN_TOKEN);
  expect(report.body.violations).toEqual([]);
}, 90_000);

test('before the start a shopper polls until the start; the shuffle reaches the kept places with one read of positions, not one per shopper', async () => {
  const startsAt = new Date(Date.now() + 8_000);
  const sale = await roomSale(10, startsAt);
  const { tokens } = await shoppers(sale.id, 8);
  const readsBefore = await placeReads();
  const first = await Promise.all(tokens.map((token) => me(sale.id, token)));
  const again = await Promise.all(tokens.map((token) => me(sale.id, token)));
  expect(Date.now()).toBeLessThan(startsAt.getTime()); // the test's premise: all of this before the start
  for (const answer of [...first, ...again]) {
    expect(answer.body).toMatchObject({ status: 'waiting', position: null });
    expect(answer.body.nextPollSeconds).toBeGreaterThanOrEqual(1);
    expect(answer.body.nextPollSeconds).toBeLessThanOrEqual(9 + 4); // until the start, + up to 4 s of spread
  }
  // Both rounds from memory: the process kept each place when the shopper joined.
  expect((await placeReads()).shopper).toBe(readsBefore.shopper);

  const ordered = await Promise.all(
    tokens.map((token) =>
      waitFor(
        () => me(sale.id, token),
        (a) => a.body.position !== null,
        30_000,
        'a place after the shuffle',
      ),
    ),
  );
  const readsAfter = await placeReads();
  const serving = (await db.query('select serving from waiting_rooms where sale_id = $1', [sale.id])).rows[0].serving as number;
  expect(ordered.map((a) => a.body.position).sort((a, b) => a! - b!)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  expect(readsAfter.positions).toBeGreaterThan(readsBefore.positions);
  // Only shoppers the counter has reached (admitted since) have their own row read again.
  expect(readsAfter.shopper - readsBefore.shopper).toBeLessThanOrEqual(serving);
  expect(serving).toBeLessThan(8);
}, 90_000);

test('a queued stream is sent its progress no more often than the shopper would poll, and its turn at once', async () => {
  const sale = await roomSale(30);
  const { tokens } = await shoppers(sale.id, 24);
  const servingNow = async () =>
    (await db.query('select serving from waiting_rooms where sale_id = $1', [sale.id])).rows[0].serving as number;
  const stream = await openSse(`${app.apiUrl}/v1/sales/${sale.id}/queue/me/events`, { token: tokens[23] });
  try {
    const first = await stream.next((e) => (e.data as QueuePositionView).position !== null, 30_000, 'a place on the stream');
    const view = first.data as QueuePositionView;
    const spacing = nextPollSeconds(view.estimatedWaitSeconds, 0, view.ticketId);
    expect(spacing).toBeGreaterThanOrEqual(5); // the premise: about 20 s of wait at 1 admission/s
    const shown = stream.events.length;
    const from = await servingNow();
    const started = Date.now();
    // Four admission steps move the room four times; a stream sent every move would show four more
    // in about 4 s. Each spacing here is at least 5 s (the wait stays over 10 s), so the stream may
    // show one more per 5 s that passed, however slowly the steps came.
    await waitFor(servingNow, (serving) => serving >= from + 4, 30_000, 'four admissions');
    const elapsedSeconds = (Date.now() - started) / 1000;
    expect(stream.events.length - shown).toBeLessThanOrEqual(Math.floor(elapsedSeconds / 5));
    // The shopper's turn is pushed at once, whatever the spacing.
    const turn = await stream.next((e) => (e.data as QueuePositionView).status === 'admitted', 60_000, 'admitted on the stream');
    expect(turn.data).toMatchObject({ ticketId: view.ticketId, status: 'admitted' });
  } finally {
    stream.close();
  }
}, 120_000);

test('when Postgres cannot be asked, a known queued shopper gets its last known place and when to come back, not a 503', async () => {
  const sale = await roomSale(30);
  const { tokens } = await shoppers(sale.id, 30);
  const lastToken = tokens[29]!; // admitted only after ~30 s at 1 admission/s: still waiting below
  const known = await waitFor(
    () => me(sale.id, lastToken),
    (a) => a.body.position !== null,
    30_000,
    'a place',
  );
  const blocker = await db.connect();
  try {
    await blocker.query('begin');
    await blocker.query('lock table waiting_rooms in access exclusive mode'); // the counters read waits, then times out
    // Answers from fresh counters come at once; the first that needed the locked read waited for its timeout.
    const busy = await waitFor(
      () => me(sale.id, lastToken),
      (a) => a.status !== 200 || a.ms > 1_000,
      20_000,
      'an answer that waited for Postgres',
    );
    expect(busy.status).toBe(200);
    expect(busy.body).toMatchObject({ status: 'waiting', ticketId: known.body.ticketId, position: known.body.position });
    expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(2);
  } finally {
    await blocker.query('rollback');
    blocker.release();
  }
}, 90_000);
