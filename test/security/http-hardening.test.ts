import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { shopperToken } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { signedWebhook } from '../helpers/payments';

let app: AppUnderTest;

beforeAll(async () => {
  app = await startAppUnderTest({ env: { RATE_LIMIT_PER_SHOPPER: '3', RATE_LIMIT_PER_SHOPPER_WINDOW_MS: '60000' } });
});

afterAll(async () => {
  await app?.stop();
});

const admin = { authorization: `Bearer ${TEST_SECRETS.ADMIN_TOKEN}` };

async function call(path: string, init: RequestInit = {}) {
  const response = await fetch(app.apiUrl + path, init);
  const text = await response.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON; the assertions say so
  }
  return { status: response.status, headers: response.headers, body };
}

function expectProblem(answer: Awaited<ReturnType<typeof call>>, status: number, type: string): void {
  expect({ status: answer.status, contentType: answer.headers.get('content-type')?.split(';')[0] }).toEqual({
    status,
    contentType: 'application/problem+json',
  });
  expect(answer.body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  expect(String(answer.body.type)).toMatch(new RegExp(`/${type}$`));
}

/** One raw HTTP/1.1 exchange, for requests no HTTP client would send. */
function rawExchange(request: string): Promise<string> {
  const url = new URL(app.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.on('error', reject);
    socket.end(request);
  });
}

test('every answer carries the security headers and no X-Powered-By', async () => {
  const answers = [
    await call('/healthz'),
    await call('/v1/sales/00000000-0000-4000-8000-000000000000'),
    await call('/v1/sales', { method: 'POST' }),
    await call('/no/such/route'),
  ];
  for (const answer of answers) {
    const headers = answer.headers;
    expect(headers.get('content-security-policy')).toMatch(/default-src 'none'.*frame-ancestors 'none'/);
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('x-frame-options')).toBe('DENY');
    expect(headers.get('referrer-policy')).toBe('no-referrer');
    expect(headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(headers.get('cross-origin-resource-policy')).toBe('same-origin');
    expect(headers.get('x-powered-by')).toBeNull();
  }
});

test('JSON bodies over 16 KiB are 413 payload-too-large; just under is read and validated', async () => {
  const json = (size: number) => JSON.stringify({ sku: 'X', name: 'x'.repeat(size) });
  const headers = { ...admin, 'content-type': 'application/json' };
  expectProblem(await call('/v1/sales', { method: 'POST', headers, body: json(16 * 1024) }), 413, 'payload-too-large');
  expectProblem(await call('/v1/sales', { method: 'POST', headers, body: json(16 * 1024 - 100) }), 400, 'invalid-request');
  // Limited before authentication is even looked at: nobody makes the API buffer a big body.
  const unsigned = { 'content-type': 'application/json' };
  const reservation = '/v1/reservations/00000000-0000-4000-8000-000000000000/cancel';
  expectProblem(await call(reservation, { method: 'POST', headers: unsigned, body: json(1_000_000) }), 413, 'payload-too-large');
});

test('webhook bodies over 64 KiB are 413; under it the signature is what refuses them', async () => {
  const big = JSON.stringify({ id: 'evt', pad: 'x'.repeat(64 * 1024) });
  const tooBig = signedWebhook(JSON.parse(big));
  const answer = await call('/v1/webhooks/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': tooBig.signature },
    body: tooBig.raw,
  });
  expectProblem(answer, 413, 'payload-too-large');
  const under = JSON.stringify({ id: 'evt', pad: 'x'.repeat(60 * 1024) });
  const forged = await call('/v1/webhooks/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-signature': `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    body: under,
  });
  expectProblem(forged, 400, 'bad-signature');
});

test('regression: a path parameter that is not valid percent-encoding is a 400, not a 500', async () => {
  const requests: Array<[string, string]> = [
    ['GET', '/v1/sales/%zz'],
    ['GET', '/v1/reservations/%E0%A4%A'],
    ['POST', '/v1/reservations/%/cancel'],
    ['POST', '/v1/sales/%C0%AF/reservations'],
    ['POST', '/v1/reservations/%ZZ/payment'],
  ];
  for (const [method, path] of requests) expectProblem(await call(path, { method }), 400, 'invalid-request');
});

test('regression: a compressed body that does not inflate is a 400, not a 500', async () => {
  const path = '/v1/reservations/00000000-0000-4000-8000-000000000000/cancel';
  for (const encoding of ['gzip', 'deflate', 'br']) {
    const answer = await call(path, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json', 'content-encoding': encoding },
      body: '{"not":"compressed"}',
    });
    expectProblem(answer, 400, 'invalid-request');
  }
  const truncated = gzipSync('{"a":1}').subarray(0, 12);
  const answer = await call(path, {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json', 'content-encoding': 'gzip' },
    body: truncated,
  });
  expectProblem(answer, 400, 'invalid-request');
  expectProblem(
    await call(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'x-custom' },
      body: '{}',
    }),
    415,
    'unsupported-media-type',
  );
});

test('requests the HTTP parser refuses are answered as problem+json too', async () => {
  const huge = await rawExchange(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  expect(huge).toMatch(/^HTTP\/1\.1 431 /);
  expect(huge).toMatch(/content-type: application\/problem\+json/i);
  expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, detail: expect.any(String) });

  const garbage = await rawExchange('THIS IS NOT HTTP\r\n\r\n');
  expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
  expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, type: expect.any(String) });
});

test('claims and payments are limited per shopper (RATE_LIMIT_PER_SHOPPER=3 here) with Retry-After', async () => {
  const token = await shopperToken('hasty');
  const headers = { authorization: `Bearer ${token}` };
  const claimPath = '/v1/sales/00000000-0000-4000-8000-000000000000/reservations';
  for (let i = 0; i < 3; i++) expect((await call(claimPath, { method: 'POST', headers })).status).toBe(404);
  const limited = await call(claimPath, { method: 'POST', headers });
  expectProblem(limited, 429, 'rate-limited');
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  const payment = await call('/v1/reservations/00000000-0000-4000-8000-000000000000/payment', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ paymentMethod: 'tok_visa' }),
  });
  expectProblem(payment, 429, 'rate-limited');
  const other = await call(claimPath, { method: 'POST', headers: { authorization: `Bearer ${await shopperToken('patient')}` } });
  expect(other.status).toBe(404);
});
