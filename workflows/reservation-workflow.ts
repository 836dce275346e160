import { ActivityFailure, ApplicationFailure, CancellationScope, condition, log } from '@temporalio/workflow';
import type { NotificationOutcome } from '../domain/payment';
import type { ReservationWorkflowInput, ReservationWorkflowResult } from '../domain/reservation-workflow-contract';
import { notifying } from './activity-stubs';
import { refundStrayCharges, release } from './compensation';
import { settle } from './payment-phase';
import { awaitHold } from './reservation-hold';
import { handleReservationMessages } from './reservation-messages';
import { ReservationState } from './reservation-state';

/**
 * `reservation-<reservationId>`: one claimed unit, from its hold to paid or released.
 * - the messages (workflows/reservation-messages.ts): query the state, pay, cancel, extend the
 *   hold, and the provider's webhook;
 * - the hold (workflows/reservation-hold.ts): until a payment, a cancel or the deadline;
 * - the payment phase (workflows/payment-phase.ts): charge, sell or release;
 * - compensation (workflows/compensation.ts): release the unit, refund captures that bought nothing.
 *
 * Written to cost Temporal little per reservation (`npm run bench -- --only cost`): no
 * `patched()` branches, the short database steps as local activities (one marker each), the
 * charge as one regular activity that also sells and notifies, and a hold timer that is never
 * cancelled.
 */
export async function reservationWorkflow(input: ReservationWorkflowInput): Promise<ReservationWorkflowResult> {
  const state = new ReservationState(input);
  handleReservationMessages(state);
  const { cancelled } = await awaitHold(state);

  // A payment accepted before this point is honoured even if support cancelled the workflow at
  // the same moment; one accepted later is refused by the handler.
  state.holdDecided = true;
  const method = state.paymentMethod;
  const releaseAs = () => (state.cancelRequested || cancelled ? 'cancelled' : 'expired');

  // From here on nothing may stop half-way: a cancellation request no longer interrupts.
  return CancellationScope.nonCancellable(async () => {
    await state.dbStepsIdle(); // a handler's database step in flight finishes first
    let result: ReservationWorkflowResult;
    if (method !== undefined) {
      // A payment accepted within the hold is honoured even if the timer fires meanwhile: the
      // unit stays held until the charge is settled (the shopper who paid at 4:59 keeps it).
      await condition(() => state.markedPending !== undefined);
      result = state.markedPending ? await settle(state, method) : await release(state, releaseAs());
    } else {
      result = await release(state, releaseAs());
    }
    if (!state.notified) await notifyOutcome(state);
    await refundStrayCharges(state, result.chargeId);
    if (state.refundedCharges.length > 0) result = { ...result, refundedCharges: state.refundedCharges };
    return state.failedRefunds.length > 0 ? { ...result, failedRefunds: state.failedRefunds } : result;
  });
}

/**
 * The outcome notice the step that decided it could not send. One given up (refused for good, or
 * out of attempts) is recorded as `failed` by the activity; the reservation ends as decided.
 */
async function notifyOutcome(state: ReservationState): Promise<void> {
  try {
    await notifying.notifyOutcome({ reservationId: state.reservationId, outcome: state.status as NotificationOutcome });
  } catch (error) {
    // A local activity's failure may arrive unwrapped, as the ApplicationFailure it threw.
    if (!(error instanceof ActivityFailure || error instanceof ApplicationFailure)) throw error;
    log.warn('outcome notice given up', { reservationId: state.reservationId, error: String(error.cause ?? error) });
  }
}
