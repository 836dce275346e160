import { Agent, request } from 'undici';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor } from '../helpers/sales';
import { openSse, type SseStream } from '../helpers/sse';

let app: AppUnderTest;
let api: ApiClient;
const streams = new Agent({ connections: 512, pipelining: 1 });

beforeAll(async () => {
  // 200 streams from one address: past the default per-IP cap (test/integration/event-stream-limits.test.ts tests it).
  ({ app, api } = await startIntegrationApp({ apiEnv: { SSE_MAX_STREAMS_PER_IP: '0' } }, 16));
});

afterAll(async () => {
  await streams.close();
  await stopIntegrationApp({ app, api });
});

async function metric(name: string): Promise<number> {
  const text = await (await request(`${app.apiUrl}/metrics`)).body.text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && !line.startsWith('#'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

interface SaleEvent {
  status: string;
  available: number;
  held: number;
  sold: number;
}

test('200 open streams of one sale share one poller, and see a claim', async () => {
  const sale = await createTestSale(api, { units: 5 });
  const opened: SseStream[] = await Promise.all(
    Array.from({ length: 200 }, () => openSse(`${app.apiUrl}/v1/sales/${sale.id}/events`, { dispatcher: streams })),
  );
  expect(opened.every((s) => s.status === 200 && s.contentType.startsWith('text/event-stream'))).toBe(true);
  await Promise.all(opened.map((s) => s.next((e) => e.event === 'sale', 10_000, 'first sale event')));
  expect(await metric('sale_feed_subscribers')).toBe(200);

  const windowStart = await metric('sale_feed_polls_total');
  const startedMs = Date.now();
  const token = await shopperToken(`watched-${sale.id}`);
  expect((await api.post(`/v1/sales/${sale.id}/reservations`, { token })).status).toBe(201);
  await Promise.all(
    opened.map((s) => s.next((e) => e.event === 'sale' && (e.data as SaleEvent).held === 1, 10_000, 'the claim in the stream')),
  );
  const held = opened[0]!.events.find((e) => (e.data as SaleEvent).held === 1)!.data as SaleEvent;
  expect(held).toMatchObject({ status: 'live', available: 4, held: 1, sold: 0 });
  await new Promise((resolve) => setTimeout(resolve, 2000));
  // One reading a second for the whole crowd (a poller per stream would be 200 a second).
  const polls = (await metric('sale_feed_polls_total')) - windowStart;
  const seconds = (Date.now() - startedMs) / 1000;
  expect(polls).toBeGreaterThanOrEqual(1);
  expect(polls).toBeLessThanOrEqual(Math.ceil(seconds) + 1);

  for (const s of opened) s.close();
  await waitFor(
    () => metric('sale_feed_subscribers'),
    (n) => n === 0,
    10_000,
    'streams closed',
  );
  // The poller stops with the last stream.
  const afterClose = await metric('sale_feed_polls_total');
  await new Promise((resolve) => setTimeout(resolve, 2500));
  expect(await metric('sale_feed_polls_total')).toBeLessThanOrEqual(afterClose + 1);
});

test('an unknown sale and a malformed id are 404 problems', async () => {
  const missing = await request(`${app.apiUrl}/v1/sales/00000000-0000-4000-8000-000000000000/events`);
  expect(missing.statusCode).toBe(404);
  expect(String(missing.headers['content-type'])).toContain('application/problem+json');
  await missing.body.text();
  const malformed = await request(`${app.apiUrl}/v1/sales/not-a-uuid/events`);
  expect(malformed.statusCode).toBe(404);
  await malformed.body.text();
});
