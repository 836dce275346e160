/*
 * GET /v1/reservations/:id/events against the real API, worker and payment simulator: the
 * stream starts with the reservation as it is, follows it to its outcome and then ends; others
 * get a 404. GET /v1/sales/:id/queue/me/events follows a place in the waiting room until it is
 * admitted, and GET /v1/sales/:id/waitlist/me/events a waitlist place until its offer. And the
 * development sign-in exists only where a launcher added it.
 */
import { joinQueue } from '../../clients/waiting-room-client';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { createTestSale } from '../helpers/sales';
import { takeSseEvents } from '../../clients/sse-events';

let app: AppUnderTest;
let api: ApiClient;

beforeAll(async () => {
  app = await startAppUnderTest();
  api = apiClient(app.apiUrl);
});

afterAll(async () => {
  await api?.close();
  await app?.stop();
});

interface Event {
  event: string;
  data: { status: string; payment?: { status: string }; position?: number | null; ahead?: number | null };
}

/** Reads the whole stream (until the server ends it) and parses its events; fails after `timeoutMs`. */
async function readStream(response: Response, timeoutMs: number, onEvent?: (event: Event) => void): Promise<Event[]> {
  const events: Event[] = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => void reader.cancel(new Error('stream did not end')), timeoutMs);
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const taken = takeSseEvents(buffer + value);
      buffer = taken.rest;
      for (const parsed of taken.events as Event[]) {
        events.push(parsed);
        onEvent?.(parsed);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

function openStream(reservationId: string, token: string): Promise<Response> {
  return fetch(`${app.apiUrl}/v1/reservations/${reservationId}/events`, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  });
}

it('streams a reservation from held through payment to paid, then ends', async () => {
  const sale = await createTestSale(api, { units: 2, holdSeconds: 120 });
  const token = await shopperToken('sse-payer');
  const claim = await api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token });
  expect(claim.status).toBe(201);

  const response = await openStream(claim.body.id, token);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
  let paying: Promise<unknown> | undefined;
  const events = await readStream(response, 30_000, (event) => {
    // Pay only once the stream has shown the hold, so every later change must come through it.
    if (event.data.status === 'held' && !paying)
      paying = api.post(`/v1/reservations/${claim.body.id}/payment`, { token, body: { paymentMethod: 'tok_visa' } });
  });
  expect((await paying) as { status: number }).toMatchObject({ status: 202 });
  expect(events.every((event) => event.event === 'reservation')).toBe(true);
  expect(events[0]!.data.status).toBe('held');
  expect(events.at(-1)!.data).toMatchObject({ status: 'paid', payment: { status: 'captured' } });
  // No event repeats the one before it.
  const shapes = events.map((event) => JSON.stringify(event.data));
  expect(shapes.filter((shape, i) => shape === shapes[i - 1])).toEqual([]);
});

it('ends with the expiry when the hold runs out', async () => {
  const sale = await createTestSale(api, { units: 1, holdSeconds: 2 });
  const token = await shopperToken('sse-sleeper');
  const claim = await api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token });
  const events = await readStream(await openStream(claim.body.id, token), 30_000);
  expect(events.map((event) => event.data.status)).toEqual(['held', 'expired']);
});

it('answers a final reservation with one event and ends; 404 for another shopper; 401 without a token', async () => {
  const sale = await createTestSale(api, { units: 1, holdSeconds: 1 });
  const token = await shopperToken('sse-owner');
  const claim = await api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token });
  await readStream(await openStream(claim.body.id, token), 30_000);
  const again = await readStream(await openStream(claim.body.id, TEST_SECRETS.ADMIN_TOKEN), 5_000);
  expect(again.map((event) => event.data.status)).toEqual(['expired']);

  const stranger = await openStream(claim.body.id, await shopperToken('sse-stranger'));
  expect(stranger.status).toBe(404);
  expect(stranger.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const anonymous = await fetch(`${app.apiUrl}/v1/reservations/${claim.body.id}/events`);
  expect(anonymous.status).toBe(401);
});

it('has no development sign-in in the production entry point', async () => {
  const answer = await api.post('/dev/sign-in', { body: { shopperId: 'mallory' } });
  expect(answer.status).toBe(404);
});

it('serves the pages with a same-origin CSP and keeps the API deny-all', async () => {
  const page = await fetch(`${app.apiUrl}/sales/${crypto.randomUUID()}`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  const csp = page.headers.get('content-security-policy') ?? '';
  expect(csp).toMatch(/script-src 'self'/);
  expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
  const asset = await fetch(`${app.apiUrl}/assets/checkout.js`);
  expect(asset.status).toBe(200);
  expect(asset.headers.get('content-type')).toMatch(/javascript/);
  const missing = await fetch(`${app.apiUrl}/assets/nope.js`);
  expect(missing.status).toBe(404);
  const json = await fetch(`${app.apiUrl}/healthz`);
  expect(json.headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
});

it('streams a waiting shopper’s place as the room admits the ones ahead, and ends at the admission', async () => {
  const { id: saleId } = await createTestSale(api, {
    sku: 'QUEUE-SSE',
    name: 'Queue stream',
    units: 5,
    priceCents: 1_000,
    waitingRoom: { admitPerSecond: 1, powDifficulty: 4 },
  });
  const tokens = await Promise.all(['q-first', 'q-second', 'q-third'].map((name) => shopperToken(name)));
  for (const token of tokens) await joinQueue(app.apiUrl, saleId, token);
  const third = tokens[2]!;

  const response = await fetch(`${app.apiUrl}/v1/sales/${saleId}/queue/me/events`, {
    headers: { authorization: `Bearer ${third}` },
  });
  expect(response.status).toBe(200);
  const events = await readStream(response, 30_000);
  expect(events.every((event) => event.event === 'position')).toBe(true);
  expect(events.at(-1)!.data.status).toBe('admitted');
  const waitingAhead = events
    .filter((event) => event.data.status === 'waiting' && typeof event.data.ahead === 'number')
    .map((event) => event.data.ahead!);
  // Admitting one a second, the third shopper sees the ones ahead go in before their own turn.
  expect(waitingAhead.length).toBeGreaterThan(0);
  expect(waitingAhead).toEqual([...waitingAhead].sort((a, b) => b - a));

  const outsider = await fetch(`${app.apiUrl}/v1/sales/${saleId}/queue/me/events`, {
    headers: { authorization: `Bearer ${await shopperToken('q-outsider')}` },
  });
  expect(outsider.status).toBe(404);
});

it('streams a waitlist place as it moves up and ends it with the offer', async () => {
  const sale = await createTestSale(api, { units: 1, holdSeconds: 120, releasePolicy: 'waitlist' });
  const [holder, first, second] = await Promise.all(['wl-holder', 'wl-first', 'wl-second'].map((name) => shopperToken(name)));
  const held = await api.post(`/v1/sales/${sale.id}/reservations`, {
    token: holder,
    headers: { 'Idempotency-Key': crypto.randomUUID() },
  });
  expect(held.status).toBe(201);
  for (const token of [first, second]) expect((await api.post(`/v1/sales/${sale.id}/waitlist`, { token })).status).toBe(201);

  const response = await fetch(`${app.apiUrl}/v1/sales/${sale.id}/waitlist/me/events`, {
    headers: { authorization: `Bearer ${second}` },
  });
  expect(response.status).toBe(200);
  // Second in line: the holder lets go (the unit is offered to the first shopper, so the second
  // moves up), then the first shopper lets their offer go (it comes to the second).
  const events = await readStream(response, 30_000, (event) => {
    if (event.data.status !== 'waiting') return;
    if (event.data.position === 2) void api.post(`/v1/reservations/${String(held.body.id)}/cancel`, { token: holder });
    if (event.data.position === 1)
      void api
        .get<{ reservationId: string }>(`/v1/sales/${sale.id}/waitlist/me`, first)
        .then((entry) => api.post(`/v1/reservations/${entry.body.reservationId}/cancel`, { token: first }));
  });
  expect(events.every((event) => event.event === 'entry')).toBe(true);
  expect(events.map((event) => [event.data.status, event.data.position])).toEqual([
    ['waiting', 2],
    ['waiting', 1],
    ['offered', 0],
  ]);

  const outsider = await fetch(`${app.apiUrl}/v1/sales/${sale.id}/waitlist/me/events`, {
    headers: { authorization: `Bearer ${await shopperToken('wl-outsider')}` },
  });
  expect(outsider.status).toBe(404);
});
