import type { Pool } from 'pg';
import { loadApiConfig } from '../../api/config';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale } from '../helpers/sales';

const ALLOWED = 'https://shop.example';
const OTHER = 'https://elsewhere.example';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ apiEnv: { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` } }));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

const corsHeaders = (res: Response) =>
  Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('access-control-') || name === 'vary'));

const preflight = (path: string, origin: string) =>
  fetch(`${app.apiUrl}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });

test('off by default; origins must be bare http(s) origins', () => {
  expect(loadApiConfig(TEST_SECRETS).CORS_ORIGINS).toEqual([]);
  expect(loadApiConfig({ ...TEST_SECRETS, CORS_ORIGINS: 'https://a.example,http://localhost:5173' }).CORS_ORIGINS).toEqual([
    'https://a.example',
    'http://localhost:5173',
  ]);
  expect(() => loadApiConfig({ ...TEST_SECRETS, CORS_ORIGINS: 'https://a.example/shop' })).toThrow(/CORS_ORIGINS/);
});

test('a preflight from an allowed origin gets the CORS headers; from another origin it does not', async () => {
  const sale = await createTestSale(api, { units: 1 });
  const path = `/v1/sales/${sale.id}/reservations`;
  const allowed = await preflight(path, ALLOWED);
  expect(allowed.status).toBe(204);
  expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  expect(allowed.headers.get('access-control-allow-methods')).toContain('POST');
  expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  // The waiting room's claim gate reads Queue-Ticket (a checkout page on another origin sends it).
  expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('queue-ticket');
  expect(allowed.headers.get('access-control-allow-credentials')).toBeNull();

  const other = await preflight(path, OTHER);
  expect(other.headers.get('access-control-allow-origin')).toBeNull();

  const read = await fetch(`${app.apiUrl}/v1/sales/${sale.id}`, { headers: { origin: ALLOWED } });
  expect(read.status).toBe(200);
  expect(read.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  const readOther = await fetch(`${app.apiUrl}/v1/sales/${sale.id}`, { headers: { origin: OTHER } });
  expect(readOther.status).toBe(200);
  expect(readOther.headers.get('access-control-allow-origin')).toBeNull();
});

test('the sold-out answer carries the same CORS headers from the fast path as from Express', async () => {
  const sale = await createTestSale(api, { units: 1 });
  const [holder, waiter] = await Promise.all([shopperToken(`cors-holder-${sale.id}`), shopperToken(`cors-waiter-${sale.id}`)]);
  const fastPathCount = async () =>
    Number(
      /claims_total\{outcome="sold-out-fast-path"\} (\d+)/.exec(await (await fetch(`${app.apiUrl}/metrics`)).text())?.[1] ?? 0,
    );
  const claim = (token: string, origin: string) =>
    fetch(`${app.apiUrl}/v1/sales/${sale.id}/reservations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, origin },
    });
  expect((await claim(holder, ALLOWED)).status).toBe(201);

  for (const origin of [ALLOWED, OTHER]) {
    const before = await fastPathCount();
    const viaExpress = await claim(waiter, origin); // the first sold-out claim reads the database
    const viaFastPath = await claim(waiter, origin); // this token was verified: answered without Express
    expect(await fastPathCount()).toBe(before + 1);
    expect([viaExpress.status, viaFastPath.status]).toEqual([409, 409]);
    expect(corsHeaders(viaFastPath)).toEqual(corsHeaders(viaExpress));
    expect(viaFastPath.headers.get('access-control-allow-origin')).toBe(origin === ALLOWED ? ALLOWED : null);
    // The next round starts from the database again: a release clears the sold-out mark.
    await db.query(`select pg_notify('unit_released', $1)`, [sale.id]);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

test('queue/me carries the same CORS headers from its fast path as from Express', async () => {
  const created = await api.post<{ id: string }>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'CORS-Q',
      name: 'Queue',
      units: 1,
      priceCents: 100,
      currency: 'EUR',
      waitingRoom: { admitPerSecond: 1, powDifficulty: 0 },
    },
  });
  const saleId = created.body.id;
  const token = await shopperToken(`cors-queue-${saleId}`);
  const challenge = await api.get<{ challenge: string }>(`/v1/sales/${saleId}/challenge`, token);
  expect(
    (await api.post(`/v1/sales/${saleId}/queue`, { token, body: { challenge: challenge.body.challenge, nonce: '0' } })).status,
  ).toBe(201);
  const fastAnswers = async () =>
    Number(/^queue_me_fast_path_total (\d+)/m.exec(await (await fetch(`${app.apiUrl}/metrics`)).text())?.[1] ?? 0);
  const poll = (path: string, origin: string) =>
    fetch(`${app.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}`, origin } });
  const path = `/v1/sales/${saleId}/queue/me`;
  // Wait for a position: only a placed ticket can be answered from memory.
  for (let i = 0; i < 100 && ((await (await poll(path, ALLOWED)).json()) as { position: number | null }).position === null; i++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  for (const origin of [ALLOWED, OTHER]) {
    let viaFastPath: Response | undefined;
    for (let attempt = 0; attempt < 20 && !viaFastPath; attempt++) {
      await poll(path, origin);
      const before = await fastAnswers();
      const answer = await poll(path, origin);
      if ((await fastAnswers()) === before + 1) viaFastPath = answer;
    }
    const viaExpress = await poll(`${path}/`, origin); // a trailing slash is the same route, never the fast path
    expect([viaExpress.status, viaFastPath?.status]).toEqual([200, 200]);
    expect(corsHeaders(viaFastPath!)).toEqual(corsHeaders(viaExpress));
    expect(viaFastPath!.headers.get('access-control-allow-origin')).toBe(origin === ALLOWED ? ALLOWED : null);
  }
});
