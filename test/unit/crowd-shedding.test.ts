import http, { type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crowdShedding } from '../../api/crowd-shedding';
import { createMetrics } from '../../api/metrics';

/*
 * api/crowd-shedding.ts in front of a stand-in for the rest of the listener (it answers 200
 * "passed"), with the event-loop delay given by the test: which requests it sheds, how, and that
 * nothing but the crowd's routes ever is.
 */
const SALE = '0b6c1c52-4a3e-4f4e-9d9e-2b1d3c4e5f60';
let delayMs = 0;
let server: http.Server;
let url: string;
const metrics = createMetrics();
const fromMemory: number[] = [];

beforeAll(async () => {
  const passed: RequestListener = (req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('passed');
  };
  const shed = crowdShedding({
    maxEventLoopDelayMs: 40,
    retryAfterSeconds: 2,
    metrics,
    eventLoopDelay: () => delayMs,
    // Shopper "known" is answered from memory; any other falls through to the 429.
    queueMeFromMemory: (req, res, minPollSeconds) => {
      if (req.headers.authorization !== 'Bearer known') return false;
      fromMemory.push(minPollSeconds);
      res.writeHead(200, { 'retry-after': String(minPollSeconds) }).end('{"status":"waiting"}');
      return true;
    },
  });
  server = http.createServer(shed(passed));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const send = (method: string, path: string, authorization = 'Bearer someone') =>
  fetch(url + path, { method, headers: { authorization } });

const CROWD: Array<[string, string]> = [
  ['GET', `/v1/sales/${SALE}/challenge`],
  ['POST', `/v1/sales/${SALE}/queue`],
  ['GET', `/v1/sales/${SALE}/queue/me`],
  ['GET', `/v1/sales/${SALE}/queue/me?fresh=1`],
  ['GET', `/v1/sales/${SALE}/queue/me/events`],
];
const NEVER_SHED: Array<[string, string]> = [
  ['POST', `/v1/sales/${SALE}/reservations`],
  ['POST', '/v1/reservations/5d2a7a38-0f7b-4a53-9a41-6b1e4d1c2a3b/payment'],
  ['GET', '/v1/reservations/5d2a7a38-0f7b-4a53-9a41-6b1e4d1c2a3b'],
  ['GET', '/v1/reservations/5d2a7a38-0f7b-4a53-9a41-6b1e4d1c2a3b/events'],
  ['GET', `/v1/sales/${SALE}`],
  ['GET', `/v1/sales/${SALE}/queue`],
  ['POST', `/v1/sales/${SALE}/challenge`],
  ['GET', '/readyz'],
];

test('while the loop keeps up, every request passes', async () => {
  delayMs = 40;
  for (const [method, path] of [...CROWD, ...NEVER_SHED]) expect((await send(method, path)).status).toBe(200);
});

test("past the delay, the crowd's routes are answered 429 problem+json with Retry-After of 2 to 4 s, and counted", async () => {
  delayMs = 41;
  for (const [method, path] of CROWD) {
    const answer = await send(method, path);
    expect(answer.status).toBe(429);
    expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-request-id')).toBeTruthy();
    expect([2, 3, 4]).toContain(Number(answer.headers.get('retry-after')));
    expect(await answer.json()).toMatchObject({ status: 429, type: expect.stringContaining('rate-limited') });
  }
  const text = await metrics.registry.getSingleMetricAsString('crowd_shed_total');
  expect(text).toContain('crowd_shed_total{route="challenge",answer="refused"} 1');
  expect(text).toContain('crowd_shed_total{route="queue",answer="refused"} 1');
  expect(text).toContain('crowd_shed_total{route="queue-me",answer="refused"} 2');
  expect(text).toContain('crowd_shed_total{route="queue-me-events",answer="refused"} 1');
});

test('past the delay, claims, payments, reservation reads and every other route still pass', async () => {
  delayMs = 10_000;
  for (const [method, path] of NEVER_SHED) expect((await send(method, path)).status).toBe(200);
});

test('past the delay, a queue/me that memory can answer is answered so, its next poll moved as far as a 429 would say', async () => {
  delayMs = 100;
  const answer = await send('GET', `/v1/sales/${SALE}/queue/me`, 'Bearer known');
  expect(answer.status).toBe(200);
  expect([2, 3, 4]).toContain(fromMemory.at(-1));
  expect(answer.headers.get('retry-after')).toBe(String(fromMemory.at(-1)));
  const text = await metrics.registry.getSingleMetricAsString('crowd_shed_total');
  expect(text).toContain('crowd_shed_total{route="queue-me",answer="from-memory"} 1');
});

test('0 turns it off: nothing is ever shed', async () => {
  const off = crowdShedding({ maxEventLoopDelayMs: 0, retryAfterSeconds: 2, metrics, eventLoopDelay: () => 1e9 });
  const next: RequestListener = () => undefined;
  expect(off(next)).toBe(next);
});
