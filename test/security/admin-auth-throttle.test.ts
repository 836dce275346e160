import { apiClient, shopperToken, type ApiAnswer, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { createTestSale } from '../helpers/sales';

/* Guesses of the admin token are throttled per client IP; only failed authentications count. */
const FAILURES_ALLOWED = 3;
let app: AppUnderTest;
let api: ApiClient;

beforeAll(async () => {
  app = await startAppUnderTest({
    env: { ADMIN_AUTH_FAILURES_PER_IP: String(FAILURES_ALLOWED), ADMIN_AUTH_FAILURES_WINDOW_MS: '600000' },
  });
  api = apiClient(app.apiUrl, 8);
});

afterAll(async () => {
  await api?.close();
  await app?.stop();
});

const createSale = (token: string) =>
  api.post('/v1/sales', { token, body: { sku: 'X', name: 'X', units: 1, priceCents: 1, currency: 'EUR' } });

function expectProblem(answer: ApiAnswer, status: number, type: RegExp) {
  expect({ status: answer.status, contentType: answer.contentType.split(';')[0] }).toEqual({
    status,
    contentType: 'application/problem+json',
  });
  expect(String(answer.body.type)).toMatch(type);
}

test('past the failures allowed per IP, admin authentication answers 429 problem+json, even to the right token; successes never count', async () => {
  // Successful admin requests, however many, are not failures.
  for (let i = 0; i < FAILURES_ALLOWED * 3; i++) expect((await createSale(TEST_SECRETS.ADMIN_TOKEN)).status).toBe(201);
  const sale = await createTestSale(api, { units: 2 });
  const shopper = await shopperToken(`throttled-ip-shopper-${sale.id}`);
  const claim = await api.post(`/v1/sales/${sale.id}/reservations`, { token: shopper });
  expect(claim.status).toBe(201);

  // Guesses on an admin route and on a route that takes either token both count.
  for (let i = 0; i < FAILURES_ALLOWED - 1; i++) expectProblem(await createSale(`guess-${i}-0123456789`), 401, /\/unauthorized$/);
  expectProblem(await api.get(`/v1/reservations/${String(claim.body.id)}`, 'guess-x-0123456789'), 401, /\/unauthorized$/);

  const refused = await createSale('guess-after-limit-0123456789');
  expectProblem(refused, 429, /\/rate-limited$/);
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  // The right token is not even compared any more: a guesser learns nothing.
  expectProblem(await createSale(TEST_SECRETS.ADMIN_TOKEN), 429, /\/rate-limited$/);
  // A shopper from the same address still reaches a route that takes either token.
  expect((await api.get(`/v1/reservations/${String(claim.body.id)}`, shopper)).status).toBe(200);
});
