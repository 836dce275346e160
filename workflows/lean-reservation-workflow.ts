import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ChargeRef } from '../activities/payment-activities';
import { ErrorCode } from '../domain/errors';
import type { ChargeEvent, NotificationOutcome } from '../domain/payment';
import { isFinal, type ReleaseReason, type ReservationStatus } from '../domain/reservation';
import {
  cancelReservationUpdate,
  chargeEventSignal,
  extendHoldUpdate,
  HOLD_EXTENSION_MAX_SECONDS,
  HOLD_EXTENSION_TOTAL_SECONDS,
  reservationStateQuery,
  ReservationStatusAttribute,
  submitPaymentUpdate,
  type ReservationWorkflowInput,
  type ReservationWorkflowResult,
} from '../domain/reservation-workflow-contract';
import type { ChargeAndSellResult } from '../activities/combined-steps';
import { charging, localBookkeeping, reconciling } from './activity-stubs';
import { settledByWebhook } from './payment-phase';
import { refundCapture } from './refund-capture';

const refuse = (code: ErrorCode, message: string) => ApplicationFailure.create({ type: code, message, nonRetryable: true });

/**
 * The reservation saga of reservationWorkflow (same messages, same guarantees, same database
 * steps), written to cost Temporal less per reservation (issue 10; `npm run bench -- --only cost`
 * measures both types):
 * - no `patched()` branches (each costs a marker and a search-attribute upsert): a new type;
 * - the short database steps (markPaymentPending, extendHoldDeadline, releaseAndNotify,
 *   completeSale after a webhook) run as local activities: one marker each instead of an
 *   activity task's three events and a workflow task's three. The charge stays a regular
 *   activity: it may take seconds and retries for up to a minute, and a local one would hold the
 *   workflow task open meanwhile (the `submitPayment` answer and the provider's webhook signal
 *   would wait for it); `chargeAndSell` completes the sale and sends the notice with it;
 * - the hold timer is never cancelled (a `sleep` raced with a `condition`): a reservation that
 *   finishes first simply leaves it running, which costs no `TimerCanceled` event;
 * - `ReservationStatus` is set at start by the client (`held`) and upserted on each later change.
 */
export async function leanReservationWorkflow(input: ReservationWorkflowInput): Promise<ReservationWorkflowResult> {
  const { reservationId } = input;
  let deadlineMs = input.expiresAtMs;
  let extensions = 0;
  let extendedSeconds = 0;
  let status: ReservationStatus = 'held';
  let cancelRequested = false;
  let holdEnded = false;
  let paymentMethod: string | undefined;
  /** The main body has left the hold and decided; no payment is taken after this. */
  let holdDecided = false;
  /** The submitPayment handler's DB step, once it has finished (true: payment_pending). */
  let markedPending: boolean | undefined;
  const chargeEvents: ChargeEvent[] = [];
  const refundedCharges: string[] = [];
  const failedRefunds: string[] = [];
  /** The shopper's notice of the outcome went out with the step that decided it. */
  let notified = false;
  /*
   * One database step at a time from the handlers and the main body: two local activities in
   * flight at once may resolve in one order when run and another when replayed, and the
   * commands that follow them would then differ (a determinism failure on replay).
   */
  let dbStepBusy = false;
  const oneAtATime = async <T>(step: () => Promise<T>): Promise<T> => {
    await condition(() => !dbStepBusy);
    dbStepBusy = true;
    try {
      return await step();
    } finally {
      dbStepBusy = false;
    }
  };

  const setStatus = (next: ReservationStatus): void => {
    status = next;
    upsertSearchAttributes([{ key: ReservationStatusAttribute, value: next }]);
  };
  const holdOpen = () => status === 'held' && !cancelRequested && paymentMethod === undefined && !holdDecided;

  setHandler(reservationStateQuery, () => ({ status, expiresAtMs: deadlineMs }));
  setHandler(chargeEventSignal, (event) => {
    if (!chargeEvents.some((seen) => seen.eventId === event.eventId)) chargeEvents.push(event);
  });
  setHandler(
    cancelReservationUpdate,
    async () => {
      cancelRequested = true;
      // A workflow cancellation landing meanwhile must not fail this update: the release still comes.
      await CancellationScope.nonCancellable(() => condition(() => isFinal(status)));
      return status;
    },
    {
      validator: () => {
        if (!holdOpen()) throw refuse(ErrorCode.InvalidState, `reservation is ${status}`);
      },
    },
  );
  setHandler(
    submitPaymentUpdate,
    async ({ paymentMethod: method }) => {
      // The main body reads paymentMethod and sets holdDecided in one synchronous step, so the
      // payment is either taken before that decision or refused after it, never half-way.
      if (holdDecided) throw refuse(ErrorCode.InvalidState, `reservation is ${status}`);
      paymentMethod = method;
      markedPending = await CancellationScope.nonCancellable(() =>
        oneAtATime(() => localBookkeeping.markPaymentPending({ reservationId, paymentMethod: method })),
      );
      if (!markedPending) throw refuse(ErrorCode.InvalidState, 'the reservation is no longer held');
      setStatus('payment_pending');
      return status;
    },
    {
      validator: (_request: { paymentMethod: string }) => {
        if (!holdOpen()) throw refuse(ErrorCode.InvalidState, `reservation is ${status}`);
        if (Date.now() >= deadlineMs) throw refuse(ErrorCode.HoldExpired, 'the hold has expired');
      },
    },
  );
  setHandler(
    extendHoldUpdate,
    async ({ seconds, by, reason }) => {
      // As in reservationWorkflow: the deadline moves first, then one idempotent DB step. The
      // checks are made again once this handler's turn for the database has come.
      const extended = await CancellationScope.nonCancellable(() =>
        oneAtATime(async () => {
          if (!holdOpen()) throw refuse(ErrorCode.InvalidState, `reservation is ${status}`);
          if (extendedSeconds + seconds > HOLD_EXTENSION_TOTAL_SECONDS)
            throw refuse(ErrorCode.InvalidRequest, `a hold may be extended by ${HOLD_EXTENSION_TOTAL_SECONDS} s in all`);
          const seq = ++extensions;
          extendedSeconds += seconds;
          deadlineMs += seconds * 1000;
          const expiresAtMs = deadlineMs;
          const applied = await localBookkeeping.extendHoldDeadline({ reservationId, seq, seconds, by, reason, expiresAtMs });
          return applied ? expiresAtMs : undefined;
        }),
      );
      if (extended === undefined) throw refuse(ErrorCode.InvalidState, 'the reservation is no longer held');
      return { expiresAtMs: extended };
    },
    {
      validator: ({ seconds, by }) => {
        if (!holdOpen()) throw refuse(ErrorCode.InvalidState, `reservation is ${status}`);
        if (Date.now() >= deadlineMs) throw refuse(ErrorCode.HoldExpired, 'the hold has expired');
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > HOLD_EXTENSION_MAX_SECONDS)
          throw refuse(ErrorCode.InvalidRequest, `seconds must be a whole number from 1 to ${HOLD_EXTENSION_MAX_SECONDS}`);
        if (extendedSeconds + seconds > HOLD_EXTENSION_TOTAL_SECONDS)
          throw refuse(
            ErrorCode.InvalidRequest,
            `a hold may be extended by ${HOLD_EXTENSION_TOTAL_SECONDS} s in all; ${HOLD_EXTENSION_TOTAL_SECONDS - extendedSeconds} s are left`,
          );
        if (typeof by !== 'string' || by.trim() === '')
          throw refuse(ErrorCode.InvalidRequest, 'by must name who extends the hold');
      },
    },
  );

  // The durable hold timer, never cancelled by a payment or a cancel update: it is left running
  // when the reservation ends first. An extension makes it wait again for the rest.
  void (async () => {
    for (;;) {
      const waitingFor = deadlineMs;
      const holdMs = waitingFor - Date.now();
      if (holdMs > 0) await sleep(holdMs);
      if (deadlineMs === waitingFor) break;
    }
    holdEnded = true;
  })().catch(() => undefined); // rejected only by a workflow cancellation, which the wait below sees too

  let cancelled = false;
  try {
    await condition(() => holdEnded || cancelRequested || paymentMethod !== undefined);
  } catch (error) {
    // Support staff cancelling the workflow (Web UI or CLI) cancels a reservation still on hold.
    if (!isCancellation(error)) throw error;
    cancelled = true;
  }

  // A payment accepted before this point is honoured even if support cancelled the workflow at
  // the same moment; one accepted later is refused by the handler.
  holdDecided = true;
  const method = paymentMethod;

  return CancellationScope.nonCancellable(async () => {
    await condition(() => !dbStepBusy); // a handler's database step in flight finishes first
    let result: ReservationWorkflowResult;
    if (method !== undefined) {
      await condition(() => markedPending !== undefined);
      result = markedPending ? await settle(method) : await release(cancelRequested || cancelled ? 'cancelled' : 'expired');
    } else {
      result = await release(cancelRequested || cancelled ? 'cancelled' : 'expired');
    }
    if (!notified) await localBookkeeping.notifyOutcome({ reservationId, outcome: status as NotificationOutcome });
    await refundStrayCharges(result.chargeId);
    if (refundedCharges.length > 0) result = { ...result, refundedCharges };
    return failedRefunds.length > 0 ? { ...result, failedRefunds } : result;
  });

  /** The payment phase: charge (and, when the charge answers, sell and notify in the same activity), or release. */
  async function settle(paidWith: string): Promise<ReservationWorkflowResult> {
    const charged = await collectPayment(paidWith);
    const { outcome } = charged;
    if (outcome.kind === 'declined') return release('payment_failed', outcome.reason);
    if (charged.sold ?? (await localBookkeeping.completeSale({ reservationId, ...outcome }))) {
      notified = charged.notified === true;
      setStatus('paid');
      return { status, chargeId: outcome.chargeId };
    }
    // Cannot happen while this workflow alone moves the reservation; if it ever does, the
    // capture bought nothing and is refunded like any other.
    await refund({ reservationId, ...outcome });
    return release('payment_failed', 'sale_not_completed');
  }

  /*
   * As workflows/payment-phase.ts: the charge activity's answer or the provider's webhook,
   * whichever comes first; a charge that gives up is followed by asking the provider what it
   * captured. Only the activity's answer comes with the sale already completed.
   */
  async function collectPayment(paidWith: string): Promise<ChargeAndSellResult> {
    const scope = new CancellationScope();
    const charge = scope.run(() => charging.chargeAndSell({ reservationId, paymentMethod: paidWith }));
    const fromActivity = charge.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    const fromWebhook = condition(() => settledByWebhook(chargeEvents) !== undefined).then(() => ({
      result: { outcome: settledByWebhook(chargeEvents)! },
    }));
    const first = await Promise.race([fromActivity, fromWebhook]);
    if ('result' in first) {
      scope.cancel(); // a webhook won: stop retrying the charge (it is idempotent anyway)
      return first.result;
    }
    const unconfirmed = {
      outcome: settledByWebhook(chargeEvents) ?? { kind: 'declined' as const, reason: 'payment_unconfirmed' },
    };
    try {
      const found = await reconciling.findCapturedCharge({ reservationId });
      return found.kind === 'succeeded' ? { outcome: found } : unconfirmed;
    } catch {
      return unconfirmed;
    }
  }

  /** Releases the unit and notifies the shopper in one local activity (a notice that failed is sent again after). */
  async function release(reason: ReleaseReason, failureReason?: string): Promise<ReservationWorkflowResult> {
    const released = await localBookkeeping.releaseAndNotify({ reservationId, reason, failureReason });
    // Histories recorded before `notified` existed have none: their notice went out with the release.
    notified = released.notified !== false;
    setStatus(released.status);
    return released.released ? { status, releasedAs: reason } : { status };
  }

  async function refund(charge: ChargeRef): Promise<void> {
    const refunded = await refundCapture(charge);
    (refunded.refunded ? refundedCharges : failedRefunds).push(charge.chargeId);
  }

  /** Invariant 4: a capture that did not buy this reservation's unit is refunded. */
  async function refundStrayCharges(soldWith: string | undefined): Promise<void> {
    const tried = (chargeId: string) => refundedCharges.includes(chargeId) || failedRefunds.includes(chargeId);
    for (;;) {
      const stray = chargeEvents.find((e) => e.type === 'charge.succeeded' && e.chargeId !== soldWith && !tried(e.chargeId));
      if (!stray) return;
      await refund({ reservationId, chargeId: stray.chargeId, gateway: stray.gateway });
    }
  }
}
