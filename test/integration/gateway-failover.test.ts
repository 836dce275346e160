import type { Pool } from 'pg';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { auditPayments } from '../helpers/payment-audit';
import { readLedger, waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ secondaryPspEnv: {} }, 32));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

test('with the primary gateway down, charges fail over to the secondary and are made on one gateway only', async () => {
  const sale = await createTestSale(api, { units: 10 });
  const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => shopperToken(`failover-${sale.id}-${i}`)));
  const claims = await Promise.all(
    tokens.map((token) => api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token })),
  );

  // The first half pays while the primary is up; then the primary goes away.
  for (let i = 0; i < 5; i++)
    await api.post(`/v1/reservations/${claims[i]!.body.id}/payment`, { token: tokens[i], body: { paymentMethod: 'tok_visa' } });
  await Promise.all(claims.slice(0, 5).map((claim, i) => waitUntilSettled(api, claim.body.id, tokens[i]!)));
  const primaryLedger = await readLedger(app.psps.primary!.url);
  await app.psps.primary!.process.stop();

  for (let i = 5; i < 10; i++)
    await api.post(`/v1/reservations/${claims[i]!.body.id}/payment`, { token: tokens[i], body: { paymentMethod: 'tok_visa' } });
  const settled = await Promise.all(claims.slice(5).map((claim, i) => waitUntilSettled(api, claim.body.id, tokens[i + 5]!)));
  expect(settled.map((r) => r.status)).toEqual(Array(5).fill('paid'));

  const secondaryLedger = await readLedger(app.psps.secondary!.url);
  const gatewayOf = (id: string) =>
    [primaryLedger, secondaryLedger]
      .flatMap((l) => l.charges)
      .filter((c) => c.reference === id)
      .map((c) => c.gateway);
  for (const claim of claims.slice(0, 5)) expect(gatewayOf(claim.body.id)).toEqual(['primary']);
  for (const claim of claims.slice(5)) expect(gatewayOf(claim.body.id)).toEqual(['secondary']);
  expect((await auditPayments(db, sale.id, [primaryLedger, secondaryLedger])).violations).toEqual([]);
});
