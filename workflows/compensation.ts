import { ActivityFailure, ApplicationFailure, log, setCurrentDetails } from '@temporalio/workflow';
import type { ChargeRef } from '../activities/payment-phase';
import type { ReleaseReason } from '../domain/reservation';
import type { ReservationWorkflowResult } from '../domain/reservation-workflow-contract';
import { bookkeeping, refunding } from './activity-stubs';
import type { ReservationState } from './reservation-state';

/** Releases the unit and notifies the shopper in one local activity (a notice that failed there is sent again after). */
export async function release(
  state: ReservationState,
  reason: ReleaseReason,
  failureReason?: string,
): Promise<ReservationWorkflowResult> {
  const released = await bookkeeping.releaseAndNotify({ reservationId: state.reservationId, reason, failureReason });
  state.notified = released.notified !== false;
  state.setStatus(released.status);
  return released.released ? { status: state.status, releasedAs: reason } : { status: state.status };
}

export async function refund(state: ReservationState, charge: ChargeRef): Promise<void> {
  const refunded = await refundCapture(charge);
  (refunded.refunded ? state.refundedCharges : state.failedRefunds).push(charge.chargeId);
}

/** Invariant 4: a capture that did not buy this reservation's unit is refunded. */
export async function refundStrayCharges(state: ReservationState, soldWith: string | undefined): Promise<void> {
  const tried = (chargeId: string) => state.refundedCharges.includes(chargeId) || state.failedRefunds.includes(chargeId);
  for (;;) {
    const stray = state.chargeEvents.find((e) => e.type === 'charge.succeeded' && e.chargeId !== soldWith && !tried(e.chargeId));
    if (!stray) return;
    await refund(state, { reservationId: state.reservationId, chargeId: stray.chargeId, gateway: stray.gateway });
  }
}

export type RefundResult = { refunded: true; refundId: string } | { refunded: false; failure: string };

/**
 * Refunds a capture that bought nothing (invariant 4). A refund the provider refuses for good, or
 * one still failing after its retry bound, ends here: it is recorded as an unrefunded capture
 * (`charges.status = 'refund_failed'`, which the invariant checker names), logged at error and
 * shown in the workflow's details in the Web UI.
 */
export async function refundCapture(charge: ChargeRef): Promise<RefundResult> {
  try {
    return { refunded: true, refundId: await refunding.refundCharge(charge) };
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    const cause = error.cause;
    const failure = cause instanceof ApplicationFailure ? `${cause.type ?? 'error'}: ${cause.message}` : String(cause ?? error);
    log.error('refund failed; recording the unrefunded capture for support', { ...charge, failure });
    await bookkeeping.recordRefundFailure({ ...charge, failure });
    setCurrentDetails(`Refund of ${charge.chargeId} failed (${failure}); recorded as an unrefunded capture, settle by hand.`);
    return { refunded: false, failure };
  }
}
