import type { Pool } from 'pg';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { auditPayments } from '../helpers/payment-audit';
import { readLedger, setPspFaults, waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

// 30% of charge and refund calls fail transiently, half of those after the charge was made.
const flaky = (seed: string) => ({
  PSP_SEED: seed,
  PSP_FAULT_RESET_RATE: '0.1',
  PSP_FAULT_5XX_RATE: '0.1',
  PSP_FAULT_SLOW_RATE: '0.1',
  PSP_FAULT_SLOW_MS: '6000',
  PSP_SLOW_MS: '7000',
  PSP_WEBHOOK_DUPLICATE_RATE: '0.3',
  PSP_WEBHOOK_LATE_RATE: '0.2',
  PSP_WEBHOOK_LATE_MS: '4000',
  PSP_WEBHOOK_REORDER_RATE: '0.2',
});

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ pspEnv: flaky('42'), secondaryPspEnv: flaky('43') }, 300));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

test('300 shoppers paying through flaky providers, the primary failing half-way: one capture per paid reservation, nothing unrefunded, counts add up', async () => {
  const sale = await createTestSale(api, { units: 300 });
  const methods = (i: number) => (i % 20 === 0 ? 'tok_slow' : i % 7 === 0 ? 'tok_chargeDeclined' : 'tok_visa');
  const shoppers = await Promise.all(Array.from({ length: 300 }, (_, i) => shopperToken(`payer-${sale.id}-${i}`)));

  const claims = await Promise.all(
    shoppers.map((token) => api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token })),
  );
  expect(claims.map((c) => c.status)).toEqual(Array(300).fill(201));
  const pay = (i: number) =>
    api.post(`/v1/reservations/${claims[i]!.body.id}/payment`, { token: shoppers[i], body: { paymentMethod: methods(i) } });
  // Half way through, the primary gets much worse: on top of its resets, 30% 5xx and 20% of the
  // rest answered after 6 s (past the worker's 4 s timeout): about half of its calls fail.
  const firstHalf = Promise.all(Array.from({ length: 150 }, (_, i) => pay(i)));
  await setPspFaults(app.psps.primary!.url, { fault5xxRate: 0.3, faultSlowRate: 0.2 });
  const submitted = [...(await firstHalf), ...(await Promise.all(Array.from({ length: 150 }, (_, i) => pay(i + 150))))];
  expect(submitted.map((s) => s.status)).toEqual(Array(300).fill(202));

  const settled = await Promise.all(claims.map((claim, i) => waitUntilSettled(api, claim.body.id, shoppers[i]!, 180_000)));
  const declinedExpected = Array.from({ length: 300 }, (_, i) => methods(i)).filter((m) => m === 'tok_chargeDeclined').length;
  const byStatus = settled.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
  // Nobody is left payment_unconfirmed: every card that works bought its unit.
  expect(byStatus).toEqual({ paid: 300 - declinedExpected, payment_failed: declinedExpected });
  settled.forEach((r, i) => {
    if (methods(i) === 'tok_chargeDeclined') expect(r.payment).toMatchObject({ failureReason: 'card_declined' });
  });

  const ledger = await readLedger(app.psps.primary!.url);
  const secondaryLedger = await readLedger(app.psps.secondary!.url);
  const audit = await auditPayments(db, sale.id, [ledger, secondaryLedger]);
  expect(audit.violations).toEqual([]);
  expect(audit.paid).toBe(byStatus.paid);
  const counts = (await api.get(`/v1/sales/${sale.id}`)).body;
  expect(counts).toMatchObject({ sold: audit.paid, held: 0, available: 300 - audit.paid });

  const { rows } = await db.query<{ attempts: number; reservations: number }>(
    `select sum(attempts)::int as attempts, count(*)::int as reservations from payment_attempts pa
     join reservations r on r.id = pa.reservation_id where r.sale_id = $1`,
    [sale.id],
  );
  console.log(
    `payments under faults: ${JSON.stringify(byStatus)}; captures ${audit.captures}, refunds ${audit.refunds}; ` +
      `charge attempts ${rows[0]!.attempts} for ${rows[0]!.reservations} reservations (${rows[0]!.attempts - rows[0]!.reservations} retries); ` +
      `${secondaryLedger.charges.length} charges at the secondary, ${ledger.voidedKeys.length} keys voided at the primary; ` +
      `injected faults ${JSON.stringify(ledger.faults)} / ${JSON.stringify(secondaryLedger.faults)}; webhooks ${JSON.stringify(ledger.webhooks)}`,
  );
}, 300_000);
