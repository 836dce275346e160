import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Pool } from 'pg';
import { MailRefusedError, type ShopperNotice } from '../../notifications/notifier';
import { workflowInputOf } from '../../clients/reservation-workflows';
import { countUnits } from '../../db/queries/count-units';
import type { ReservationRow } from '../../db/rows';
import {
  cancelReservationUpdate,
  chargeEventSignal,
  lateChargeWorkflowId,
  reservationWorkflowId,
  submitPaymentUpdate,
} from '../../domain/reservation-workflow-contract';
import { checkSaleInvariants } from '../../invariants/check-sale-invariants';
import { createHttpGateway } from '../../payments/http-gateway';
import { lateChargeWorkflow, reservationWorkflow } from '../../workflows';
import type { RunningPsp } from '../psp/psp-process';
import { startPaymentSagaRig, type PaymentSagaRig } from '../helpers/payment-saga-rig';
import { waitFor } from '../helpers/sales';
import { claimedReservation, recordHistory } from '../helpers/workflow-env';

/* The payment saga with real activities, a real payment provider process and the real dev server. */
let rig: PaymentSagaRig;
let pool: Pool;
let psp: RunningPsp;
let env: TestWorkflowEnvironment;
const notifications: ShopperNotice[] = [];
/** The outcomes a reservation's shopper was told, in order (a notice's key is `<reservationId>:<outcome>`). */
const outcomesNotified = (reservationId: string) =>
  notifications.filter((n) => n.key.startsWith(`${reservationId}:`)).map((n) => n.key.slice(reservationId.length + 1));
const refusedOnce = new Set<string>();
const refusedForGood = new Set<string>();
const deferredOnce = new Set<string>();
const taskQueue = 'payment-workflow-tests';

beforeAll(async () => {
  rig = await startPaymentSagaRig({
    taskQueue,
    poolMax: 4,
    pspEnv: { PSP_SLOW_MS: '7000' },
    notifier: {
      send: async (notice) => {
        // A mail server refusing one message, once (`refuseNoticeOnce`).
        if (refusedOnce.delete(notice.key.split(':')[0]!)) throw new Error('550 mailbox unavailable');
        // Deferred (451) with the release, then refused for good (550) when the workflow sends it itself.
        const id = notice.key.split(':')[0]!;
        if (refusedForGood.has(id)) {
          if (deferredOnce.delete(id)) throw new Error('451 try again later');
          throw new MailRefusedError(550, '550 no such mailbox');
        }
        notifications.push(notice);
      },
    },
  });
  ({ pool, psp, env } = rig);
});

afterAll(async () => {
  await rig?.stop();
});

function start(reservation: ReservationRow) {
  return env.client.workflow.start(reservationWorkflow, {
    workflowId: reservationWorkflowId(reservation.id),
    taskQueue,
    args: [workflowInputOf(reservation)],
  });
}

test('a card payment is charged once, the unit sold and the shopper notified once', async () => {
  const reservation = await claimedReservation(pool, 300);
  const handle = await start(reservation);
  expect(await handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentMethod: 'tok_visa' }] })).toBe('payment_pending');
  const result = await handle.result();
  expect(result).toEqual({ status: 'paid', chargeId: expect.stringMatching(/^ch_/) });
  expect(await countUnits(pool, reservation.sale_id)).toEqual({ available: 1, held: 0, sold: 1, withdrawn: 0 });
  expect(outcomesNotified(reservation.id)).toEqual(['paid']);
  // What a paid reservation costs Temporal (the bench's cost phase targets, bench/report.ts).
  const described = await handle.describe();
  expect(described.historyLength).toBeLessThanOrEqual(20);
  expect(Number(described.raw.workflowExecutionInfo?.stateTransitionCount)).toBeLessThanOrEqual(8);
  await recordHistory(env.address, handle, 'paid-by-charge');
});

test('a release notice the mail server refuses does not hold up the cancel; it is sent once afterwards', async () => {
  const reservation = await claimedReservation(pool, 300);
  refusedOnce.add(reservation.id);
  const handle = await start(reservation);
  expect(await handle.executeUpdate(cancelReservationUpdate)).toBe('cancelled');
  expect(await handle.result()).toEqual({ status: 'cancelled', releasedAs: 'cancelled' });
  expect(refusedOnce.has(reservation.id)).toBe(false);
  expect(await countUnits(pool, reservation.sale_id)).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });
  expect(outcomesNotified(reservation.id)).toEqual(['cancelled']);
  await recordHistory(env.address, handle, 'release-notice-refused');
});

test('an outcome notice the mail server refuses for good is given up, recorded as failed; the workflow ends as decided', async () => {
  const reservation = await claimedReservation(pool, 300);
  refusedForGood.add(reservation.id);
  deferredOnce.add(reservation.id);
  const handle = await start(reservation);
  expect(await handle.executeUpdate(cancelReservationUpdate)).toBe('cancelled');
  expect(await handle.result()).toEqual({ status: 'cancelled', releasedAs: 'cancelled' });
  expect(outcomesNotified(reservation.id)).toEqual([]);
  const { rows } = await pool.query(`select state, last_error from notifications where reservation_id = $1`, [reservation.id]);
  expect(rows).toEqual([{ state: 'failed', last_error: 'refused for good: 550 no such mailbox' }]);
  await recordHistory(env.address, handle, 'outcome-notice-refused');
});

test('a declined card ends payment_failed and releases the unit', async () => {
  const reservation = await claimedReservation(pool, 300);
  const handle = await start(reservation);
  await handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentMethod: 'tok_chargeDeclined' }] });
  expect(await handle.result()).toEqual({ status: 'payment_failed', releasedAs: 'payment_failed' });
  expect(await countUnits(pool, reservation.sale_id)).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });
  await recordHistory(env.address, handle, 'payment-declined');
});

test('the webhook that arrives before the slow charge answers settles the payment', async () => {
  const reservation = await claimedReservation(pool, 300);
  const handle = await start(reservation);
  await handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentMethod: 'tok_slow' }] });
  const client = createHttpGateway({ baseUrl: psp.url, timeoutMs: 2_000 });
  const [charge] = await waitFor(
    () => client.chargesByReference(reservation.id),
    (charges) => charges.length > 0,
    10_000,
    'charge created',
  );
  await handle.signal(chargeEventSignal, {
    eventId: 'evt_test_1',
    type: 'charge.succeeded',
    chargeId: charge!.id,
    gateway: 'primary',
  });
  await handle.signal(chargeEventSignal, {
    eventId: 'evt_test_1',
    type: 'charge.succeeded',
    chargeId: charge!.id,
    gateway: 'primary',
  });
  const started = Date.now();
  expect(await handle.result()).toEqual({ status: 'paid', chargeId: charge!.id });
  expect(Date.now() - started).toBeLessThan(5_000); // did not wait for the 7 s charge
  expect(await countUnits(pool, reservation.sale_id)).toEqual({ available: 1, held: 0, sold: 1, withdrawn: 0 });
  await recordHistory(env.address, handle, 'paid-by-webhook');
});

/** A capture of this reservation made outside its workflow, with a card whose refunds the provider refuses for good. */
async function unrefundableCapture(reservation: ReservationRow): Promise<string> {
  const answer = await createHttpGateway({ baseUrl: psp.url, timeoutMs: 2_000 }).charge({
    idempotencyKey: `stray-${reservation.id}`,
    amountCents: 99_900,
    currency: 'EUR',
    paymentMethod: 'tok_refundRefused',
    reference: reservation.id,
  });
  if (answer.kind !== 'succeeded') throw new Error(`stray charge not made: ${JSON.stringify(answer)}`);
  return answer.charge.id;
}

async function recordedCharge(chargeId: string) {
  const { rows } = await pool.query<{ status: string; refund_failure: string | null }>(
    `select status, refund_failure from charges where id = $1`,
    [chargeId],
  );
  return rows[0];
}

test('a refund the provider refuses for good ends the workflow, is recorded, and the checker names it', async () => {
  const reservation = await claimedReservation(pool, 300);
  const handle = await start(reservation);
  const chargeId = await unrefundableCapture(reservation);
  await handle.signal(chargeEventSignal, {
    eventId: `evt_${chargeId}`,
    type: 'charge.succeeded',
    chargeId,
    gateway: 'primary',
  });
  expect(await handle.executeUpdate(cancelReservationUpdate)).toBe('cancelled');

  // Ends (no retry once a minute forever), releasing the unit and naming the unrefunded capture.
  expect(await handle.result()).toEqual({ status: 'cancelled', releasedAs: 'cancelled', failedRefunds: [chargeId] });
  expect(await countUnits(pool, reservation.sale_id)).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });
  expect(await recordedCharge(chargeId)).toEqual({
    status: 'refund_failed',
    refund_failure: expect.stringMatching(/refund-refused/),
  });

  const report = await checkSaleInvariants(
    { pool, gateways: [createHttpGateway({ baseUrl: psp.url, timeoutMs: 2_000 })] },
    reservation.sale_id,
  );
  expect(report.violations).toContainEqual({
    invariant: 4,
    detail: expect.stringMatching(new RegExp(`unrefunded capture ${chargeId}: its refund failed`)),
  });
  // Without the provider's ledger the checker still names it, from the database alone.
  expect((await checkSaleInvariants({ pool }, reservation.sale_id)).violations).toEqual([
    { invariant: 4, detail: expect.stringContaining(chargeId) },
  ]);
  await recordHistory(env.address, handle, 'refund-refused');
});

test('a late capture whose refund is refused for good ends its late-charge workflow and is recorded', async () => {
  const reservation = await claimedReservation(pool, 300);
  const handle = await start(reservation);
  expect(await handle.executeUpdate(cancelReservationUpdate)).toBe('cancelled');
  await handle.result();
  const chargeId = await unrefundableCapture(reservation);

  const late = await env.client.workflow.start(lateChargeWorkflow, {
    workflowId: lateChargeWorkflowId(chargeId),
    taskQueue,
    args: [{ reservationId: reservation.id, chargeId, gateway: 'primary' }],
  });
  expect(await late.result()).toEqual({ refundFailure: expect.stringMatching(/refund-refused/) });
  expect(await recordedCharge(chargeId)).toEqual({
    status: 'refund_failed',
    refund_failure: expect.stringMatching(/refund-refused/),
  });
  expect((await checkSaleInvariants({ pool }, reservation.sale_id)).violations).toEqual([
    { invariant: 4, detail: expect.stringContaining(`unrefunded capture ${chargeId}`) },
  ]);
});
