/*
 * Issue 21: admitted shoppers' claims and payments have capacity of their own that the waiting
 * crowd cannot exhaust. On the event loop: while it runs late (held on purpose by the test entry
 * test/helpers/entries/api-with-busy-loop.ts) the crowd's routes are answered 429 with
 * Retry-After before Express, and a claim with its Queue-Ticket and a payment are not. In
 * Postgres: the API reaches it through a TCP proxy (test/helpers/pg-wire-proxy.ts) that freezes
 * every connection of the crowd's pool while crowd requests hold them, and an admitted claim and
 * its payment still go through on the checkout pool. The worker talks to Postgres directly. The
 * frozen pool stays frozen: that test runs last.
 */
import { randomUUID } from 'node:crypto';
import { fetchChallenge, joinQueue, solveChallenge, type QueueTicket } from '../../clients/waiting-room-client';
import { insertTickets } from '../../db/queries/queue-tickets';
import type { QueuePositionView } from '../../domain/waiting-room';
import { shopperToken, type ApiAnswer } from '../helpers/api-client';
import { TEST_SECRETS } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled } from '../helpers/payments';
import { startPgWireProxy, type PgWireProxy } from '../helpers/pg-wire-proxy';
import { waitFor, type SaleAnswer } from '../helpers/sales';

const CROWD_POOL = 'flash-sale-api';
const CHECKOUT_POOL = 'flash-sale-api-checkout';
const CROWD_POOL_MAX = 3;

let proxy: PgWireProxy;
let parts: IntegrationApp;

beforeAll(async () => {
  proxy = await startPgWireProxy(testInfra().databaseUrl);
  parts = await startIntegrationApp({
    apiEntry: 'test/helpers/entries/api-with-busy-loop.ts',
    apiEnv: {
      DATABASE_URL: proxy.url,
      PG_POOL_MAX: String(CROWD_POOL_MAX),
      PG_CHECKOUT_POOL_MAX: '3',
      CROWD_SHED_EVENT_LOOP_DELAY_MS: '25',
      CROWD_SHED_RETRY_AFTER_SECONDS: '1',
      RATE_LIMIT_QUEUE_PER_SHOPPER: '0',
    },
  });
});

afterAll(async () => {
  // First the proxy: the requests stuck on frozen connections fail, and the API stops at once.
  await proxy?.stop();
  await stopIntegrationApp(parts);
});

async function roomSale(): Promise<SaleAnswer> {
  const answer = await parts.api.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'XPHONE-15',
      name: 'XPhone 15',
      units: 5,
      priceCents: 99_900,
      currency: 'EUR',
      waitingRoom: { admitPerSecond: 50, powDifficulty: 0 },
    },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const me = (saleId: string, token: string) => parts.api.get<QueuePositionView>(`/v1/sales/${saleId}/queue/me`, token);

/** A shopper who joined and whose queue/me says admitted (so this API process knows the admission). */
async function admittedShopper(saleId: string, name: string): Promise<{ token: string; ticket: QueueTicket }> {
  const token = await shopperToken(`${name}-${saleId}`);
  const ticket = await joinQueue(parts.app.apiUrl, saleId, token);
  await waitFor(
    () => me(saleId, token),
    (a) => a.body.status === 'admitted',
    30_000,
    `${name} admitted`,
  );
  return { token, ticket };
}

/** The claim with the ticket, then the payment: both must be answered, not shed or starved. */
async function claimAndPay(saleId: string, shopper: { token: string; ticket: QueueTicket }) {
  const claim = await parts.api.post<{ id: string }>(`/v1/sales/${saleId}/reservations`, {
    token: shopper.token,
    headers: { 'queue-ticket': shopper.ticket.ticket },
  });
  expect(claim.status).toBe(201);
  const pay = await parts.api.post(`/v1/reservations/${claim.body.id}/payment`, {
    token: shopper.token,
    body: { paymentMethod: 'tok_visa' },
  });
  expect(pay.status).toBe(202);
  return claim.body.id;
}

async function busyLoop(blockMs: number): Promise<void> {
  const answer = await fetch(`${parts.app.apiUrl}/test/busy-loop`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ blockMs }),
  });
  expect(answer.status).toBe(204);
}

async function shedCount(route: string, answer: string): Promise<number> {
  const text = await (await fetch(`${parts.app.apiUrl}/metrics`)).text();
  const line = new RegExp(`^crowd_shed_total\\{route="${route}",answer="${answer}"\\} (\\d+)`, 'm').exec(text);
  return Number(line?.[1] ?? 0);
}

function expectShed(answer: ApiAnswer): void {
  expect(answer.status).toBe(429);
  expect(answer.contentType).toMatch(/^application\/problem\+json/);
  expect(answer.body).toMatchObject({ status: 429, type: expect.stringContaining('rate-limited') });
  expect([1, 2]).toContain(Number(answer.headers['retry-after']));
}

test('while the event loop runs late the crowd is told to come back (429, Retry-After); an admitted claim and payment are not shed', async () => {
  const sale = await roomSale();
  const admitted = await admittedShopper(sale.id, 'busy-admitted');
  const latecomer = await shopperToken(`busy-latecomer-${sale.id}`);
  const { challenge, difficulty } = await fetchChallenge(parts.app.apiUrl, sale.id, latecomer);
  const join = { challenge, nonce: await solveChallenge(challenge, difficulty) };
  const shedJoinsBefore = await shedCount('queue', 'refused');

  await busyLoop(100);
  try {
    const challengeAnswer = await waitFor(
      () => parts.api.get(`/v1/sales/${sale.id}/challenge`, latecomer),
      (a) => a.status === 429,
      30_000,
      'a challenge shed',
    );
    expectShed(challengeAnswer);
    expectShed(await parts.api.post(`/v1/sales/${sale.id}/queue`, { token: latecomer, body: join }));
    expect(await shedCount('queue', 'refused')).toBe(shedJoinsBefore + 1);
    // An admitted shopper's poll is answered from memory, not shed.
    expect((await me(sale.id, admitted.token)).body.status).toBe('admitted');
    const reservationId = await claimAndPay(sale.id, admitted);
    expect((await parts.api.get(`/v1/reservations/${reservationId}`, admitted.token)).status).toBe(200);
  } finally {
    await busyLoop(0);
  }
  // Nothing of the shed join was spent: the same solution joins once the loop keeps up again.
  const joined = await waitFor(
    () => parts.api.post(`/v1/sales/${sale.id}/queue`, { token: latecomer, body: join }),
    (a) => a.status !== 429,
    30_000,
    'the join taken again',
  );
  expect(joined.status).toBe(201);
}, 120_000);

test("with every connection of the crowd's pool held by crowd work, an admitted claim and its payment go through on the checkout pool", async () => {
  const sale = await roomSale();
  const admitted = await admittedShopper(sale.id, 'pool-admitted');
  // Shoppers who joined through another API process, so this one has not kept their places (it
  // keeps the tickets it inserts): their polls need Postgres.
  const crowdIds = Array.from({ length: 12 }, (_, i) => `pool-crowd-${sale.id}-${i}`);
  await insertTickets(
    parts.db,
    crowdIds.map((shopperId) => ({ id: randomUUID(), saleId: sale.id, shopperId, challengeId: randomUUID() })),
  );
  const crowd = await Promise.all(crowdIds.map((id) => shopperToken(id)));

  // Every connection of the crowd's pool open, then frozen: a statement sent on one never returns.
  await waitFor(
    async () => {
      await Promise.all(Array.from({ length: 2 * CROWD_POOL_MAX }, () => fetch(`${parts.app.apiUrl}/readyz`)));
      return proxy.connections(CROWD_POOL);
    },
    (open) => open >= CROWD_POOL_MAX,
    30_000,
    "the crowd's pool fully open",
  );
  expect(proxy.freeze(CROWD_POOL)).toBe(CROWD_POOL_MAX);
  let pending = crowd.length;
  const polls = crowd.map((token) => me(sale.id, token).finally(() => pending--));
  // The pool is exhausted once a poll gives up waiting for a connection (db/pool.ts, 5 s).
  expect((await Promise.race(polls)).status).toBe(503);
  const checkoutStatements = proxy.statements(CHECKOUT_POOL);

  const reservationId = await claimAndPay(sale.id, admitted);
  expect((await waitUntilSettled(parts.api, reservationId, admitted.token)).status).toBe('paid');
  // The crowd's pool stayed full: polls still hang on its frozen connections, and it opened no other.
  expect(pending).toBeGreaterThan(0);
  expect(proxy.connections(CROWD_POOL)).toBe(CROWD_POOL_MAX);
  expect(proxy.statements(CHECKOUT_POOL)).toBeGreaterThan(checkoutStatements);
  void Promise.allSettled(polls);
}, 120_000);
