import { SHOPPER_TOKEN_SCOPE } from '../../config/common';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { forgedAuthorizations, handMadeJwt } from '../helpers/forged-tokens';
import { createTestSale, waitFor } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let saleId: string;
let reservationId: string;
let ownerToken: string;

beforeAll(async () => {
  // Hundreds of forged tokens from one address: the admin-authentication throttle (its own test,
  // admin-auth-throttle.test.ts) would answer them 429 after the first ten.
  app = await startAppUnderTest({ env: { ADMIN_AUTH_FAILURES_PER_IP: '0' } });
  api = apiClient(app.apiUrl, 32);
  saleId = (await createTestSale(api, { units: 5, holdSeconds: 3_600 })).id;
  ownerToken = await shopperToken(`owner-${saleId}`);
  const claim = await api.post(`/v1/sales/${saleId}/reservations`, { token: ownerToken });
  expect(claim.status).toBe(201);
  reservationId = String(claim.body.id);
});

afterAll(async () => {
  await api?.close();
  await app?.stop();
});

/** Every route that needs a token, called with `authorization` as the whole header value. */
function protectedCalls(authorization: string) {
  const headers = { authorization };
  return {
    'POST /v1/sales': () =>
      api.post('/v1/sales', { headers, body: { sku: 'X', name: 'X', units: 1, priceCents: 1, currency: 'EUR' } }),
    'POST /v1/sales/:id/reservations': () => api.post(`/v1/sales/${saleId}/reservations`, { headers }),
    'GET /v1/reservations/:id': () => getWith(headers),
    'POST /v1/reservations/:id/payment': () =>
      api.post(`/v1/reservations/${reservationId}/payment`, { headers, body: { paymentMethod: 'tok_visa' } }),
    'POST /v1/reservations/:id/cancel': () => api.post(`/v1/reservations/${reservationId}/cancel`, { headers }),
  };
}

async function getWith(headers: Record<string, string>) {
  const response = await fetch(`${app.apiUrl}/v1/reservations/${reservationId}`, { headers });
  const body = (await response.json()) as Record<string, unknown>;
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', body };
}

function expectUnauthorized(answer: { status: number; contentType: string; body: Record<string, unknown> }, what: string) {
  expect({ what, status: answer.status, contentType: answer.contentType.split(';')[0] }).toEqual({
    what,
    status: 401,
    contentType: 'application/problem+json',
  });
  expect(answer.body).toMatchObject({ status: 401, title: expect.any(String), detail: expect.any(String) });
  expect(String(answer.body.type)).toMatch(/\/unauthorized$/);
}

test('forged, expired, malformed and mis-scoped tokens are 401 problem+json on every protected route', async () => {
  const forged = await forgedAuthorizations(TEST_SECRETS.JWT_SECRET, await shopperToken('mallory'));
  let checked = 0;
  for (const [name, authorization] of Object.entries(forged)) {
    for (const [route, call] of Object.entries(protectedCalls(authorization))) {
      expectUnauthorized(await call(), `${name} on ${route}`);
      checked += 1;
    }
  }
  expect(checked).toBeGreaterThanOrEqual(150);
  // Nothing happened to the reservation.
  expect((await api.get(`/v1/reservations/${reservationId}`, ownerToken)).body).toMatchObject({ status: 'held' });
});

test('the admin token is no shopper token, and a shopper token is no admin token', async () => {
  const admin = `Bearer ${TEST_SECRETS.ADMIN_TOKEN}`;
  expectUnauthorized(await api.post(`/v1/sales/${saleId}/reservations`, { headers: { authorization: admin } }), 'admin claims');
  expectUnauthorized(
    await api.post(`/v1/reservations/${reservationId}/payment`, {
      headers: { authorization: admin },
      body: { paymentMethod: 'tok_visa' },
    }),
    'admin pays',
  );
  const shopperAsAdmin = await api.post('/v1/sales', {
    token: ownerToken,
    body: { sku: 'X', name: 'X', units: 1, priceCents: 1, currency: 'EUR' },
  });
  expectUnauthorized(shopperAsAdmin, 'shopper creates a sale');
  // A JWT whose subject is the admin token is still a shopper.
  expectUnauthorized(
    await api.post('/v1/sales', {
      token: await shopperToken(TEST_SECRETS.ADMIN_TOKEN),
      body: { sku: 'X', name: 'X', units: 1, priceCents: 1, currency: 'EUR' },
    }),
    'JWT with the admin token as subject',
  );
  // Near misses of the admin token (prefix, suffix, case) are refused like any other string.
  for (const nearMiss of [
    TEST_SECRETS.ADMIN_TOKEN.slice(0, -1),
    `${TEST_SECRETS.ADMIN_TOKEN}x`,
    TEST_SECRETS.ADMIN_TOKEN.toUpperCase(),
  ]) {
    expectUnauthorized(
      await api.post('/v1/sales', { token: nearMiss, body: { sku: 'X', name: 'X', units: 1, priceCents: 1, currency: 'EUR' } }),
      'near miss',
    );
  }
});

test('regression: a signed token whose sub is not a clean string authenticates nobody', async () => {
  const exp = Math.floor(Date.now() / 1000) + 3_600;
  // Before the fix `"sub": 42` authenticated shopper 42, and a NUL in the subject reached Postgres.
  const subjects: Record<string, unknown> = {
    number: 42,
    array: ['alice'],
    object: { length: 5 },
    'NUL character': 'alice\u0000',
    'other control character': 'alice\u001b[31m',
    'lone surrogate': 'alice\ud800',
  };
  for (const [name, sub] of Object.entries(subjects)) {
    const { issuer: iss, audience: aud } = SHOPPER_TOKEN_SCOPE;
    const token = handMadeJwt({ alg: 'HS256', typ: 'JWT' }, { sub, exp, iss, aud }, TEST_SECRETS.JWT_SECRET);
    expectUnauthorized(await api.post(`/v1/sales/${saleId}/reservations`, { token }), `sub ${name} claims`);
    expectUnauthorized(await api.get(`/v1/reservations/${reservationId}`, token), `sub ${name} reads`);
  }
  // Unicode subjects stay fine.
  const unicode = await api.post(`/v1/sales/${saleId}/reservations`, { token: await shopperToken(`zoë-🙂-${saleId}`) });
  expect(unicode.status).toBe(201);
  expect(unicode.body.userId).toBe(`zoë-🙂-${saleId}`);
});

test('a valid token still works: the control case for the refusals above', async () => {
  const answer = await api.get(`/v1/reservations/${reservationId}`, ownerToken);
  expect(answer.status).toBe(200);
  expect((await api.get(`/v1/reservations/${reservationId}`, TEST_SECRETS.ADMIN_TOKEN)).status).toBe(200);
});

test('a token accepted before is refused once it expires (the verified-token memory keeps its exp)', async () => {
  const token = await shopperToken(`short-${saleId}`, TEST_SECRETS.JWT_SECRET, '8s');
  expect((await getWith({ authorization: `Bearer ${token}` })).status).toBe(404); // accepted: not this shopper's reservation
  const refused = await waitFor(
    () => getWith({ authorization: `Bearer ${token}` }),
    (answer) => answer.status === 401,
    30_000,
    'the token refused once expired',
  );
  expectUnauthorized(refused, 'expired after use');
  expect(refused.body.detail).toMatch(/expired/);
});
