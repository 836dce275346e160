/*
 * Issue 19: the caps on open Server-Sent Events streams, against the real API. Its caps here are
 * small (6 in all, 4 per client IP, 2 per shopper), and the test connects from several loopback
 * addresses (127.0.0.1, .2, .3), so each cap is met on its own. A stream past a cap is answered
 * 429 problem+json with Retry-After; a closed stream gives its slot back; a caller refused by
 * authentication takes none.
 */
import http from 'node:http';
import { shopperToken } from '../helpers/api-client';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor } from '../helpers/sales';

let parts: IntegrationApp;

beforeAll(async () => {
  parts = await startIntegrationApp({
    apiEnv: { SSE_MAX_STREAMS: '6', SSE_MAX_STREAMS_PER_IP: '4', SSE_MAX_STREAMS_PER_SHOPPER: '2' },
  });
});

afterAll(async () => {
  await stopIntegrationApp(parts);
});

interface Opened {
  status: number;
  retryAfter: string | undefined;
  contentType: string;
  /** The problem document of a refused stream. */
  problem?: { type: string; status: number; limit?: string };
  close(): void;
}

/** Opens a stream from `from` (a loopback address; node:http, since undici ignores localAddress) and keeps it open until close(). */
function open(path: string, from: string, token?: string): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      parts.app.apiUrl + path,
      { localAddress: from, headers: { accept: 'text/event-stream', ...(token && { authorization: `Bearer ${token}` }) } },
      (response) => {
        const opened: Opened = {
          status: response.statusCode ?? 0,
          retryAfter: response.headers['retry-after'],
          contentType: String(response.headers['content-type']),
          close: () => req.destroy(),
        };
        response.on('error', () => undefined);
        if (opened.status === 200) return resolve(opened);
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ ...opened, problem: JSON.parse(body) as Opened['problem'] }));
      },
    );
    req.on('error', reject);
  });
}

async function openStreams(): Promise<number> {
  const text = await (await fetch(`${parts.app.apiUrl}/metrics`)).text();
  return Number(/^event_streams_open (\d+)/m.exec(text)?.[1] ?? NaN);
}

function expectRefused(opened: Opened, limit: string) {
  expect({ status: opened.status, limit: opened.problem?.limit, type: opened.problem?.type }).toEqual({
    status: 429,
    limit,
    type: 'https://flash-sale.example/problems/rate-limited',
  });
  expect(opened.contentType).toMatch(/^application\/problem\+json/);
  expect(Number(opened.retryAfter)).toBeGreaterThan(0);
}

it('caps the public sale streams per IP and in total, and gives a closed stream’s slot back', async () => {
  const sale = await createTestSale(parts.api, { units: 2 });
  const path = `/v1/sales/${sale.id}/events`;
  const first = await Promise.all(Array.from({ length: 4 }, () => open(path, '127.0.0.1')));
  expect(first.map((s) => s.status)).toEqual([200, 200, 200, 200]);
  expectRefused(await open(path, '127.0.0.1'), 'per-ip');

  const second = await Promise.all(Array.from({ length: 2 }, () => open(path, '127.0.0.2')));
  expect(second.map((s) => s.status)).toEqual([200, 200]);
  expectRefused(await open(path, '127.0.0.2'), 'total');

  first[0]!.close();
  await waitFor(openStreams, (n) => n === 5, 10_000, 'the closed stream given back');
  const again = await open(path, '127.0.0.2');
  expect(again.status).toBe(200);
  for (const stream of [...first, ...second, again]) stream.close();
  await waitFor(openStreams, (n) => n === 0, 10_000, 'every stream given back');
});

it('caps a shopper’s streams whatever they follow; another shopper and anonymous 401s are not counted', async () => {
  const sale = await createTestSale(parts.api, { units: 3, holdSeconds: 120 });
  const [alice, bob] = await Promise.all([shopperToken('cap-alice'), shopperToken('cap-bob')]);
  const claim = await parts.api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token: alice });
  expect(claim.status).toBe(201);
  const path = `/v1/reservations/${claim.body.id}/events`;

  // Refused before any slot is taken: no token.
  for (let i = 0; i < 5; i++) expect((await open(path, '127.0.0.3')).status).toBe(401);
  const mine = await Promise.all([open(path, '127.0.0.3', alice), open(path, '127.0.0.3', alice)]);
  expect(mine.map((s) => s.status)).toEqual([200, 200]);
  expectRefused(await open(path, '127.0.0.3', alice), 'per-shopper');

  const bobs = await parts.api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token: bob });
  const other = await open(`/v1/reservations/${bobs.body.id}/events`, '127.0.0.3', bob);
  expect(other.status).toBe(200);
  for (const stream of [...mine, other]) stream.close();
  await waitFor(openStreams, (n) => n === 0, 10_000, 'every stream given back');
});
