import { CancellationScope, condition } from '@temporalio/workflow';
import type { ChargeAndSellResult } from '../activities/payment-phase';
import type { ChargeEvent, ChargeOutcome } from '../domain/payment';
import type { ReservationWorkflowResult } from '../domain/reservation-workflow-contract';
import { bookkeeping, charging, reconciling } from './activity-stubs';
import { refund, release } from './compensation';
import type { ReservationState } from './reservation-state';

/** The first webhook that settles this reservation's charge, if one has come. */
export function settledByWebhook(events: readonly ChargeEvent[]): ChargeOutcome | undefined {
  const event = events.find((e) => e.type === 'charge.succeeded' || e.type === 'charge.failed');
  if (!event) return undefined;
  return event.type === 'charge.succeeded'
    ? { kind: 'succeeded', chargeId: event.chargeId, gateway: event.gateway }
    : { kind: 'declined', reason: event.failureReason ?? 'declined', chargeId: event.chargeId };
}

/**
 * The payment phase, once the submitted payment is `payment_pending`: charge, then sell the unit
 * (the charge activity sells and notifies when it answers) or release it.
 */
export async function settle(state: ReservationState, paymentMethod: string): Promise<ReservationWorkflowResult> {
  const { reservationId } = state;
  const charged = await collectPayment(state, paymentMethod);
  const { outcome } = charged;
  if (outcome.kind === 'declined') return release(state, 'payment_failed', outcome.reason);
  if (charged.sold ?? (await bookkeeping.completeSale({ reservationId, ...outcome }))) {
    state.notified = charged.notified === true;
    state.setStatus('paid');
    return { status: state.status, chargeId: outcome.chargeId };
  }
  // Cannot happen while this workflow alone moves the reservation; if it ever does, the
  // capture bought nothing and is refunded like any other.
  await refund(state, { reservationId, ...outcome });
  return release(state, 'payment_failed', 'sale_not_completed');
}

/*
 * What the charge came to, whichever tells first: the charge activity's answer or the
 * provider's webhook. The charge is a regular activity, not a local one: it may take seconds and
 * retries for up to a minute, and a local one would hold the workflow task open meanwhile (the
 * webhook's signal would wait for it). If the charge gives up (deadline) the provider is asked
 * whether it captured anything after all; only a definite "nothing" is a failure. Only the
 * activity's answer comes with the sale already completed.
 */
async function collectPayment(state: ReservationState, paymentMethod: string): Promise<ChargeAndSellResult> {
  const { reservationId, chargeEvents } = state;
  const scope = new CancellationScope();
  const charge = scope.run(() => charging.chargeAndSell({ reservationId, paymentMethod }));
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
