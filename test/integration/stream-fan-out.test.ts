/*
 * Issue 19 (items 6 and 9a): what the open event streams cost Postgres, and whether they keep
 * hearing after the LISTEN connection fails. The API reaches Postgres through a TCP proxy
 * (test/helpers/pg-wire-proxy.ts) that counts the statements of each connection by its
 * application_name and can freeze a connection (a half-open connection after a failover: both
 * sockets open, nothing passes). The worker talks to Postgres directly.
 */
import { execFileSync } from 'node:child_process';
import { shopperToken } from '../helpers/api-client';
import { testInfra } from '../helpers/infra-env';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import { startPgWireProxy, type PgWireProxy } from '../helpers/pg-wire-proxy';
import { createTestSale, waitFor } from '../helpers/sales';
import { openSse, type SseStream } from '../helpers/sse';

const POOL = 'flash-sale-api';
const FEED = 'flash-sale-api-change-feed';
const RELEASE_LISTENER = 'flash-sale-api-listener';
const STREAMS = 40;

let proxy: PgWireProxy;
let parts: IntegrationApp;

beforeAll(async () => {
  proxy = await startPgWireProxy(testInfra().databaseUrl);
  parts = await startIntegrationApp({
    apiEnv: { DATABASE_URL: proxy.url, CHANGE_FEED_CHECK_MS: '1000', SSE_MAX_STREAMS_PER_IP: '500' },
  });
});

afterAll(async () => {
  await stopIntegrationApp(parts);
  await proxy?.stop();
});

interface EntryView {
  status: string;
  position: number;
}

/** A sold-out waitlist sale (one unit, held) with `count` shoppers waiting, each following its entry. */
async function waitlistWithStreams(count: number) {
  const sale = await createTestSale(parts.api, { units: 1, holdSeconds: 300, releasePolicy: 'waitlist' });
  const holder = await shopperToken(`fan-holder-${sale.id}`);
  const hold = await parts.api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token: holder });
  expect(hold.status).toBe(201);
  const tokens = await Promise.all(Array.from({ length: count }, (_, i) => shopperToken(`fan-${sale.id}-${i}`)));
  for (const token of tokens) expect((await parts.api.post(`/v1/sales/${sale.id}/waitlist`, { token })).status).toBe(201);
  const streams = await Promise.all(
    tokens.map((token) => openSse(`${parts.app.apiUrl}/v1/sales/${sale.id}/waitlist/me/events`, { token })),
  );
  await Promise.all(
    streams.map((s, i) => s.next((e) => (e.data as EntryView).position === i + 1, 10_000, `stream ${i} first view`)),
  );
  return { sale, streams, cancelHold: () => parts.api.post(`/v1/reservations/${hold.body.id}/cancel`, { token: holder }) };
}

/** Every stream shows the entry one place further up (the first one: the offer). */
async function allMovedUp(streams: SseStream[]) {
  await Promise.all(
    streams.map((s, i) =>
      s.next(
        (e) => (i === 0 ? (e.data as EntryView).status === 'offered' : (e.data as EntryView).position === i),
        20_000,
        `stream ${i} moved up`,
      ),
    ),
  );
}

it('computes a waitlist move once for every stream of the sale, not with one query per stream', async () => {
  const { streams, cancelHold } = await waitlistWithStreams(STREAMS);
  const before = proxy.statements(POOL);
  expect((await cancelHold()).status).toBe(200);
  await allMovedUp(streams);
  const statements = proxy.statements(POOL) - before;
  for (const s of streams) s.close();
  // The cancel itself reads the reservation and its sale; the move costs one read, not STREAMS.
  expect(statements).toBeLessThan(STREAMS / 4);
});

it('after the LISTEN connection is killed, re-reads the reservation streams in one go and still tells them', async () => {
  const sale = await createTestSale(parts.api, { units: STREAMS, holdSeconds: 300 });
  const shoppers = await Promise.all(Array.from({ length: STREAMS }, (_, i) => shopperToken(`resync-${sale.id}-${i}`)));
  const holds: string[] = [];
  for (const token of shoppers) {
    const claim = await parts.api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token });
    expect(claim.status).toBe(201);
    holds.push(claim.body.id);
  }
  const streams = await Promise.all(
    holds.map((id, i) => openSse(`${parts.app.apiUrl}/v1/reservations/${id}/events`, { token: shoppers[i] })),
  );
  await Promise.all(streams.map((s) => s.next((e) => e.event === 'reservation', 10_000, 'first view')));

  const { rows } = await parts.db.query<{ pid: number }>(`select pid from pg_stat_activity where application_name = $1`, [FEED]);
  expect(rows).toHaveLength(1);
  const before = proxy.statements(POOL);
  await parts.db.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
  // The new LISTEN connection has run its LISTENs (its latest statement is done: idle).
  await waitFor(
    async () =>
      (
        await parts.db.query<{ pid: number }>(
          `select pid from pg_stat_activity
           where application_name = $1 and pid <> $2 and state = 'idle' and (query ilike 'listen%' or query ilike '%notify%')`,
          [FEED, rows[0]!.pid],
        )
      ).rowCount,
    (n) => n === 1,
    20_000,
    'the change feed listening again',
  );
  // A read through the same pool queues behind every re-read the reconnect started.
  expect((await parts.api.get(`/v1/reservations/${holds[0]}`, shoppers[0])).status).toBe(200);
  const statements = proxy.statements(POOL) - before;

  // And the new connection hears: a cancel reaches its stream.
  expect((await parts.api.post(`/v1/reservations/${holds[1]}/cancel`, { token: shoppers[1] })).status).toBe(200);
  await streams[1]!.next((e) => (e.data as { status: string }).status === 'cancelled', 20_000, 'the cancel after the reconnect');
  for (const s of streams) s.close();
  expect(statements).toBeLessThan(STREAMS / 4);
});

it('notices a LISTEN connection that went deaf (half-open) and reconnects: the streams still move', async () => {
  const { streams, cancelHold } = await waitlistWithStreams(3);
  expect(proxy.freeze(FEED)).toBe(1);
  expect((await cancelHold()).status).toBe(200);
  await allMovedUp(streams);
  for (const s of streams) s.close();
});

it('turns TCP keepalive on for the pool’s, the change feed’s and the release listener’s Postgres connections', async () => {
  const port = new URL(proxy.url).port;
  const ours = new Set([POOL, FEED, RELEASE_LISTENER].flatMap((name) => proxy.clientPorts(name)).map(String));
  expect(proxy.clientPorts(FEED)).toHaveLength(1);
  expect(proxy.clientPorts(RELEASE_LISTENER)).toHaveLength(1);
  // The API's sockets to the proxy; `-o` shows a keepalive timer on a socket with SO_KEEPALIVE.
  const lines = execFileSync('ss', ['-tnoH', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => ours.has(/127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:\d+/.exec(line)?.[1] ?? ''));
  expect(lines.length).toBe(ours.size);
  expect(lines.filter((line) => !line.includes('timer:(keepalive'))).toEqual([]);
});
