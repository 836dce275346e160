import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  setHandler,
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
import { bookkeeping } from './activity-stubs';
import { collectPayment } from './payment-phase';
import { refundCapture } from './refund-capture';

const refuse = (code: ErrorCode, message: string) => ApplicationFailure.create({ type: code, message, nonRetryable: true });

export async function reservationWorkflow(input: ReservationWorkflowInput): Promise<ReservationWorkflowResult> {
  const { reservationId } = input;
  // Handlers that survive a workflow cancellation racing them (support's cancel in the Web UI):
  // workflows started before this change keep the old handlers, so their histories replay.
  const cancelSafe = patched('cancel-safe-handlers');
  // Support may extend the hold (extendHold); workflows started before that existed cannot be.
  const extendable = patched('hold-extensions');
  /** When the hold ends: input.expiresAtMs, moved later by each accepted extension. */
  let deadlineMs = input.expiresAtMs;
  /** Extensions accepted so far (their count numbers the next one) and their seconds in all. */
  let extensions = 0;
  let extendedSeconds = 0;
  let status: ReservationStatus = 'held';
  let cancelRequested = false;
  let paymentMethod: string | undefined;
  /** With cancelSafe: the main body has left the hold and decided; no payment is taken after this. */
  let holdDecided = false;
  /** With cancelSafe: the submitPayment handler's DB step, once it has finished (true: payment_pending). */
  let markedPending: boolean | undefined;
  const chargeEvents: ChargeEvent[] = [];
  const refundedCharges: string[] = [];
  /** Captures whose refund failed for good, recorded for support. */
  const failedRefunds: string[] = [];

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
      if (!cancelSafe) await condition(() => isFinal(status));
      // A workflow cancellation landing meanwhile must not fail this update: the release still comes.
      else await CancellationScope.nonCancellable(() => condition(() => isFinal(status)));
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
      if (!cancelSafe) {
        paymentMethod = method;
        await bookkeeping.markPaymentPending({ reservationId, paymentMethod: method });
        setStatus('payment_pending');
        return status;
      }
      // The main body reads paymentMethod and sets holdDecided in one synchronous step, so the
      // payment is either taken before that decision or refused after it, never half-way.
      if (holdDecided) throw refuse(ErrorCode.InvalidState, `reservation is ${status}`);
      paymentMethod = method;
      // The DB step finishes even if the workflow is cancelled meanwhile; the main body waits for it.
      markedPending = await CancellationScope.nonCancellable(() =>
        bookkeeping.markPaymentPending({ reservationId, paymentMethod: method }),
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
  if (extendable) {
    setHandler(
      extendHoldUpdate,
      async ({ seconds, by, reason }) => {
        if (!holdOpen()) throw refuse(ErrorCode.InvalidState, `reservation is ${status}`);
        // The deadline moves before the DB step, so the hold cannot end while the step runs; the
        // hold loop below waits again when its timer fires before the new deadline.
        const seq = ++extensions;
        extendedSeconds += seconds;
        deadlineMs += seconds * 1000;
        const expiresAtMs = deadlineMs;
        // Finishes even if the workflow is cancelled meanwhile. A release that wins the race
        // (a cancel) leaves the extension unrecorded and the answer is a refusal.
        const applied = await CancellationScope.nonCancellable(() =>
          bookkeeping.extendHoldDeadline({ reservationId, seq, seconds, by, reason, expiresAtMs }),
        );
        if (!applied) throw refuse(ErrorCode.InvalidState, 'the reservation is no longer held');
        return { expiresAtMs };
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
  }

  let cancelled = false;
  try {
    // The durable hold timer: it lives in Temporal's history, so restarts neither shorten nor lose it.
    // An extension moves deadlineMs; the timer already running is left to fire (cancelling it
    // would cost history events) and the loop waits again for the rest. Without an extension
    // this is the one timer it always was, so older histories replay unchanged.
    for (;;) {
      const waitingFor = deadlineMs;
      const holdMs = waitingFor - Date.now();
      if (holdMs <= 0) break;
      if (await condition(() => cancelRequested || paymentMethod !== undefined, holdMs)) break;
      if (deadlineMs === waitingFor) break; // the timer ended the hold it was started for
    }
  } catch (error) {
    // Support staff cancelling the workflow (Web UI or CLI) cancels a reservation still on hold.
    if (!isCancellation(error)) throw error;
    cancelled = true;
  }

  // With cancelSafe, a payment accepted before this point is honoured even if support cancelled
  // the workflow at the same moment; one accepted later is refused by the handler.
  holdDecided = cancelSafe;
  const paying = paymentMethod !== undefined && (cancelSafe || !cancelled);

  // From here on nothing may stop half-way: a cancellation request no longer interrupts.
  return CancellationScope.nonCancellable(async () => {
    let result: ReservationWorkflowResult;
    if (paying && paymentMethod !== undefined) {
      // A payment accepted within the hold is honoured even if the timer fires meanwhile:
      // the unit stays held until the charge is settled (the shopper who paid at 4:59 keeps it).
      if (cancelSafe) await condition(() => markedPending !== undefined);
      else await condition(() => status === 'payment_pending');
      if (cancelSafe && !markedPending) {
        result = await release(cancelRequested || cancelled ? 'cancelled' : 'expired');
      } else {
        result = await settle(paymentMethod);
      }
    } else {
      result = await release(cancelRequested || cancelled ? 'cancelled' : 'expired');
    }
    // Workflows started before notifications existed finish without one.
    if (patched('notify-outcome')) await bookkeeping.notifyOutcome({ reservationId, outcome: status as NotificationOutcome });
    await refundStrayCharges(result.chargeId);
    if (refundedCharges.length > 0) result = { ...result, refundedCharges };
    return failedRefunds.length > 0 ? { ...result, failedRefunds } : result;
  });

  /** The payment phase: charge, then sell the unit or release it. */
  async function settle(method: string): Promise<ReservationWorkflowResult> {
    const outcome = await collectPayment(reservationId, method, chargeEvents);
    if (outcome.kind === 'declined') return release('payment_failed', outcome.reason);
    if (await bookkeeping.completeSale({ reservationId, ...outcome })) {
      setStatus('paid');
      return { status, chargeId: outcome.chargeId };
    }
    // Cannot happen while this workflow alone moves the reservation; if it ever does, the
    // capture bought nothing and is refunded like any other.
    await refund({ reservationId, ...outcome });
    return release('payment_failed', 'sale_not_completed');
  }

  async function release(reason: ReleaseReason, failureReason?: string): Promise<ReservationWorkflowResult> {
    const released = await bookkeeping.releaseUnit({ reservationId, reason, failureReason });
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
