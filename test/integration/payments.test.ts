import { existsSync, readFileSync } from 'node:fs';
import type { Pool } from 'pg';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { readLedger, signedWebhook, waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale, waitFor, type SaleAnswer } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;
let sale: SaleAnswer;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ pspEnv: { PSP_SLOW_MS: '7000' } }, 64));
  sale = await createTestSale(api, { units: 50 });
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

async function holdUnit(name: string): Promise<{ token: string; reservation: ReservationAnswer }> {
  const token = await shopperToken(`${name}-${sale.id}`);
  const claim = await api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token });
  expect(claim.status).toBe(201);
  return { token, reservation: claim.body };
}

const pay = (id: string, token: string, paymentMethod: string) =>
  api.post<ReservationAnswer>(`/v1/reservations/${id}/payment`, { token, body: { paymentMethod } });

const unitStatus = async (reservationId: string) =>
  (
    await db.query<{ status: string }>(
      `select u.status from units u join reservations r on r.sale_id = u.sale_id and r.unit_id = u.id where r.id = $1`,
      [reservationId],
    )
  ).rows[0]!.status;

test('tok_visa: 202 payment_pending, then paid with one captured charge and the unit sold', async () => {
  const { token, reservation } = await holdUnit('visa');
  const accepted = await pay(reservation.id, token, 'tok_visa');
  expect(accepted.status).toBe(202);
  expect(accepted.body).toMatchObject({ id: reservation.id, status: 'payment_pending', payment: { status: 'pending' } });

  const paid = await waitUntilSettled(api, reservation.id, token);
  expect(paid).toMatchObject({ status: 'paid', payment: { status: 'captured', chargeId: expect.stringMatching(/^ch_/) } });
  expect(await unitStatus(reservation.id)).toBe('sold');
  const ledger = await readLedger(app.psps.primary!.url);
  expect(ledger.charges.filter((c) => c.reference === reservation.id)).toEqual([
    expect.objectContaining({ id: paid.payment!.chargeId, status: 'succeeded' }),
  ]);
  const { rows } = await db.query(`select status from charges where reservation_id = $1`, [reservation.id]);
  expect(rows).toEqual([{ status: 'captured' }]);
  await waitFor(
    // The sink's file appears with the first notification, which may come after the paid status.
    async () => (existsSync(app.env.NOTIFICATIONS_FILE!) ? readFileSync(app.env.NOTIFICATIONS_FILE!, 'utf8') : ''),
    (text) => text.includes(`${reservation.id}:paid`),
    10_000,
    'paid notification',
  );

  expect((await pay(reservation.id, token, 'tok_visa')).status).toBe(409);
  expect((await api.post(`/v1/reservations/${reservation.id}/cancel`, { token })).status).toBe(409);
});

test('tok_chargeDeclined: payment_failed, not retried, and the unit is available again', async () => {
  const { token, reservation } = await holdUnit('declined');
  expect((await pay(reservation.id, token, 'tok_chargeDeclined')).status).toBe(202);
  const failed = await waitUntilSettled(api, reservation.id, token);
  expect(failed).toMatchObject({ status: 'payment_failed', payment: { status: 'failed', failureReason: 'card_declined' } });
  expect(await unitStatus(reservation.id)).toBe('available');
  const attempts = await db.query<{ attempts: number }>(`select attempts from payment_attempts where reservation_id = $1`, [
    reservation.id,
  ]);
  expect(attempts.rows[0]!.attempts).toBe(1);
});

test('tok_slow: the first attempt times out, a retry replays the key, one charge, paid', async () => {
  const { token, reservation } = await holdUnit('slow');
  expect((await pay(reservation.id, token, 'tok_slow')).status).toBe(202);
  const paid = await waitUntilSettled(api, reservation.id, token, 60_000);
  expect(paid.status).toBe('paid');
  const attempts = await db.query<{ attempts: number }>(`select attempts from payment_attempts where reservation_id = $1`, [
    reservation.id,
  ]);
  expect(attempts.rows[0]!.attempts).toBeGreaterThan(1);
  const ledger = await readLedger(app.psps.primary!.url);
  expect(ledger.charges.filter((c) => c.reference === reservation.id)).toHaveLength(1);
});

test('paying after the hold ended is 409 hold-expired; bad payment bodies are 400', async () => {
  const shortSale = await createTestSale(api, { units: 1, holdSeconds: 1 });
  const token = await shopperToken(`late-${shortSale.id}`);
  const claim = await api.post<ReservationAnswer>(`/v1/sales/${shortSale.id}/reservations`, { token });
  expect((await api.post(`/v1/reservations/${claim.body.id}/payment`, { token, body: { paymentMethod: 'visa' } })).status).toBe(
    400,
  );
  expect((await api.post(`/v1/reservations/${claim.body.id}/payment`, { token, body: {} })).status).toBe(400);
  await new Promise((resolve) => setTimeout(resolve, 1_200));
  const late = await pay(claim.body.id, token, 'tok_visa');
  expect(late.status).toBe(409);
  expect(String((late.body as unknown as { type: string }).type)).toMatch(/\/hold-expired$/);
});

test('a capture reported after the hold was released is refunded and the refund recorded', async () => {
  const shortSale = await createTestSale(api, { units: 1, holdSeconds: 1 });
  const token = await shopperToken(`straggler-${shortSale.id}`);
  const claim = await api.post<ReservationAnswer>(`/v1/sales/${shortSale.id}/reservations`, { token });
  await waitUntilSettled(api, claim.body.id, token, 20_000);

  // The provider captures a charge for the released reservation (a payment that landed too late).
  const charged = await fetch(`${app.psps.primary!.url}/v1/charges`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `straggler-${claim.body.id}` },
    body: JSON.stringify({ amountCents: 99_900, currency: 'EUR', paymentMethod: 'tok_visa', reference: claim.body.id }),
  });
  const charge = (await charged.json()) as { id: string };

  const refund = await waitFor(
    async () => (await db.query(`select status, refund_id from charges where id = $1`, [charge.id])).rows[0],
    (row) => row?.status === 'refunded',
    30_000,
    'late capture refunded',
  );
  expect(refund.refund_id).toMatch(/^re_/);
  const ledger = await readLedger(app.psps.primary!.url);
  expect(ledger.charges.find((c) => c.id === charge.id)?.status).toBe('refunded');
  expect(ledger.refunds.filter((r) => r.chargeId === charge.id)).toHaveLength(1);
  expect((await api.get(`/v1/sales/${shortSale.id}`)).body).toMatchObject({ available: 1, sold: 0 });
});

test('webhooks with a forged signature or a timestamp older than 5 minutes are 400 and change nothing', async () => {
  const { reservation } = await holdUnit('forged');
  const body = {
    id: `evt_forged_${reservation.id}`,
    type: 'charge.succeeded',
    createdAt: new Date().toISOString(),
    data: {
      chargeId: 'ch_forged',
      reference: reservation.id,
      gateway: 'primary',
      amountCents: 1,
      currency: 'EUR',
      status: 'succeeded',
    },
  };
  const send = (raw: string, signature: string) =>
    fetch(`${app.apiUrl}/v1/webhooks/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signature },
      body: raw,
    });

  const forged = signedWebhook(body, undefined, 'not-the-secret-at-all');
  const forgedAnswer = await send(forged.raw, forged.signature);
  expect(forgedAnswer.status).toBe(400);
  expect(((await forgedAnswer.json()) as { type: string }).type).toMatch(/\/bad-signature$/);

  const stale = signedWebhook(body, Math.floor(Date.now() / 1000) - 301);
  expect((await send(stale.raw, stale.signature)).status).toBe(400);

  const tampered = signedWebhook(body);
  expect((await send(tampered.raw.replace('ch_forged', 'ch_other'), tampered.signature)).status).toBe(400);
  expect((await send(tampered.raw, 'garbage')).status).toBe(400);

  const nul = signedWebhook({ ...body, id: 'evt_\u0000' });
  expect((await send(nul.raw, nul.signature)).status).toBe(400); // signed, but not storable

  const { rows } = await db.query(`select count(*)::int as n from webhook_events where reference = $1`, [reservation.id]);
  expect(rows[0]).toEqual({ n: 0 });
  const after = await db.query(`select status from reservations where id = $1`, [reservation.id]);
  expect(after.rows[0]).toEqual({ status: 'held' });
});
