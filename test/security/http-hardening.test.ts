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

function expectSecurityHeaders(headers: Headers, where: string): void {
  const seen = {
    where,
    csp: headers.get('content-security-policy'),
    nosniff: headers.get('x-content-type-options'),
    frame: headers.get('x-frame-options'),
    referrer: headers.get('referrer-policy'),
    hsts: headers.get('strict-transport-security'),
    corp: headers.get('cross-origin-resource-policy'),
    poweredBy: headers.get('x-powered-by'),
    requestId: headers.get('x-request-id'),
  };
  expect(seen).toEqual({
    where,
    csp: expect.stringMatching(/default-src 'none'.*frame-ancestors 'none'/),
    nosniff: 'nosniff',
    frame: 'DENY',
    referrer: 'no-referrer',
    hsts: expect.stringMatching(/max-age=\d+/),
    corp: 'same-origin',
    poweredBy: null,
    requestId: expect.stringMatching(/^[\w.-]{1,64}$/),
  });
}

async function claimsTotal(outcome: string): Promise<number> {
  const text = await (await fetch(`${app.apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`claims_total{outcome="${outcome}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

test('every answer carries the security headers and a request id, and no X-Powered-By', async () => {
  const answers: Array<[string, Awaited<ReturnType<typeof call>>]> = [
    ['healthz', await call('/healthz')],
    ['404 sale', await call('/v1/sales/00000000-0000-4000-8000-000000000000')],
    ['401', await call('/v1/sales', { method: 'POST' })],
    ['404 route', await call('/no/such/route')],
    ['405', await call('/v1/sales', { method: 'DELETE' })],
    ['metrics', await call('/metrics')],
  ];
  for (const [where, answer] of answers) expectSecurityHeaders(answer.headers, where);
  const echoed = await call('/healthz', { headers: { 'x-request-id': 'trace-42.a_b' } });
  expect(echoed.headers.get('x-request-id')).toBe('trace-42.a_b');
});

test('the sold-out fast path answers with the same security headers and a request id', async () => {
  const created = await call('/v1/sales', {
    method: 'POST',
    headers: { ...admin, 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'FAST-1', name: 'Fast path', units: 1, priceCents: 100, currency: 'EUR' }),
  });
  expect(created.status).toBe(201);
  const claimPath = `/v1/sales/${String(created.body.id)}/reservations`;
  const winner = { authorization: `Bearer ${await shopperToken('fast-winner')}` };
  const loser = { authorization: `Bearer ${await shopperToken('fast-loser')}` };
  expect((await call(claimPath, { method: 'POST', headers: winner })).status).toBe(201);
  // Through Express: verifies the loser's token and marks the sale sold out.
  expectProblem(await call(claimPath, { method: 'POST', headers: loser }), 409, 'sold-out');

  const before = await claimsTotal('sold-out-fast-path');
  const fast = await call(claimPath, { method: 'POST', headers: { ...loser, 'x-request-id': 'fast-path-1' } });
  expect(await claimsTotal('sold-out-fast-path')).toBe(before + 1);
  expectProblem(fast, 409, 'sold-out');
  expectSecurityHeaders(fast.headers, 'fast path');
  expect(fast.headers.get('x-request-id')).toBe('fast-path-1');
  const fresh = await call(claimPath, { method: 'POST', headers: loser });
  expect(await claimsTotal('sold-out-fast-path')).toBe(before + 2);
  expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

test('a known path with a method it does not serve is 405 with Allow; unknown paths stay 404', async () => {
  const cases: Array<[string, string, string]> = [
    ['DELETE', '/v1/sales', 'POST'],
    ['GET', '/v1/sales', 'POST'],
    ['PUT', '/v1/sales/00000000-0000-4000-8000-000000000000', 'GET, HEAD'],
    ['GET', '/v1/sales/00000000-0000-4000-8000-000000000000/reservations', 'POST'],
    ['DELETE', '/v1/reservations/00000000-0000-4000-8000-000000000000', 'GET, HEAD'],
    ['GET', '/v1/reservations/00000000-0000-4000-8000-000000000000/cancel', 'POST'],
    ['PATCH', '/v1/reservations/00000000-0000-4000-8000-000000000000/payment', 'POST'],
    ['GET', '/v1/webhooks/payments', 'POST'],
    ['POST', '/v1/admin/sales/00000000-0000-4000-8000-000000000000/invariants', 'GET, HEAD'],
    ['POST', '/healthz', 'GET, HEAD'],
    ['OPTIONS', '/readyz', 'GET, HEAD'],
    ['DELETE', '/metrics', 'GET, HEAD'],
  ];
  for (const [method, path, allow] of cases) {
    const answer = await call(path, { method, headers: admin });
    expect({ method, path, allow: answer.headers.get('allow') }).toEqual({ method, path, allow });
    expectProblem(answer, 405, 'method-not-allowed');
  }
  // HEAD is served wherever GET is.
  expect((await fetch(`${app.apiUrl}/healthz`, { method: 'HEAD' })).status).toBe(200);
  // Refused before the body is read: a 405 even for a body over every limit.
  const big = await call('/v1/sales', {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: 'x'.repeat(100_000),
  });
  expectProblem(big, 405, 'method-not-allowed');
  for (const [method, path] of [
    ['DELETE', '/v1/nothing'],
    ['GET', '/v1/sales/00000000-0000-4000-8000-000000000000/other'],
  ] as const) {
    const answer = await call(path, { method });
    expectProblem(answer, 404, 'not-found');
    expect(answer.headers.get('allow')).toBeNull();
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
  expect(huge).toMatch(/content-security-policy: default-src 'none'/i);
  expect(huge).toMatch(/x-frame-options: DENY/i);
  expect(huge).toMatch(/x-request-id: [0-9a-f-]{36}\r\n/i);
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
