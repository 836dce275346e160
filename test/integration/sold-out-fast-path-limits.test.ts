/*
 * The sold-out fast path (api/sold-out-fast-path.ts) answers in front of Express; the per-shopper
 * rate limit still counts its answers (issue 19, item 8), against the real API process.
 */
import { shopperToken, type ApiAnswer, type ApiClient } from '../helpers/api-client';
import type { AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale } from '../helpers/sales';

const LIMIT = 6;

let app: AppUnderTest;
let api: ApiClient;

beforeAll(async () => {
  ({ app, api } = await startIntegrationApp({
    apiEnv: { RATE_LIMIT_PER_SHOPPER: String(LIMIT), RATE_LIMIT_PER_SHOPPER_WINDOW_MS: '600000' },
  }));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api });
});

const fastPathAnswers = async () =>
  Number(
    /^claims_total\{outcome="sold-out-fast-path"\} (\d+)/m.exec(await (await fetch(`${app.apiUrl}/metrics`)).text())?.[1] ?? 0,
  );
const budget = (remaining: number) => expect.stringMatching(new RegExp(`^limit=${LIMIT}, remaining=${remaining}, reset=\\d+$`));
const code = (answer: ApiAnswer) => `${answer.status} ${String(answer.body.type ?? '').replace(/^.*\//, '')}`.trim();

test('claims the fast path answers sold-out count against the per-shopper limit, with the same headers as Express', async () => {
  const sale = await createTestSale(api, { units: 1 });
  const [holder, shopper] = await Promise.all([shopperToken(`holder-${sale.id}`), shopperToken(`limited-${sale.id}`)]);
  expect((await api.post(`/v1/sales/${sale.id}/reservations`, { token: holder })).status).toBe(201);

  // The first claim goes through Express (the token is new here): it finds no unit and marks the
  // sale sold out. Every later claim of this known shopper on the marked sale is the fast path's.
  const before = await fastPathAnswers();
  const answers: ApiAnswer[] = [];
  for (let i = 0; i < LIMIT + 3; i++) answers.push(await api.post(`/v1/sales/${sale.id}/reservations`, { token: shopper }));
  const fast = (await fastPathAnswers()) - before;

  expect(answers.map(code)).toEqual([...Array(LIMIT).fill('409 sold-out'), ...Array(3).fill('429 rate-limited')]);
  // The fast path answered (all but the first), and counted each answer in the shopper's budget.
  expect(fast).toBe(LIMIT - 1);
  expect(answers.map((a) => a.headers.ratelimit)).toEqual([
    ...Array.from({ length: LIMIT }, (_, i) => budget(LIMIT - 1 - i)),
    ...Array(3).fill(budget(0)),
  ]);
  // The fast path's answer and Express's carry the same headers (Express answers a path with a trailing slash).
  const other = await shopperToken(`compare-${sale.id}`);
  const viaExpress = await api.post(`/v1/sales/${sale.id}/reservations/`, { token: other });
  const viaFastPath = await api.post(`/v1/sales/${sale.id}/reservations`, { token: other });
  const headers = (a: ApiAnswer) =>
    Object.fromEntries(
      Object.entries(a.headers).filter(
        ([name]) => !['date', 'keep-alive', 'connection', 'x-request-id', 'ratelimit'].includes(name),
      ),
    );
  expect([code(viaExpress), code(viaFastPath)]).toEqual(['409 sold-out', '409 sold-out']);
  expect(headers(viaFastPath)).toEqual(headers(viaExpress));
  expect([viaExpress.headers.ratelimit, viaFastPath.headers.ratelimit]).toEqual([budget(LIMIT - 1), budget(LIMIT - 2)]);
  expect(viaFastPath.body).toEqual(viaExpress.body);
});
