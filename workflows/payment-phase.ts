import { CancellationScope, condition, log } from '@temporalio/workflow';
import type { ChargeEvent, ChargeOutcome } from '../domain/payment';
import { charging, reconciling } from './activity-stubs';

/** The first webhook that settles this reservation's charge, if one has come. */
export function settledByWebhook(events: readonly ChargeEvent[]): ChargeOutcome | undefined {
  const event = events.find((e) => e.type === 'charge.succeeded' || e.type === 'charge.failed');
  if (!event) return undefined;
  return event.type === 'charge.succeeded'
    ? { kind: 'succeeded', chargeId: event.chargeId, gateway: event.gateway }
    : { kind: 'declined', reason: event.failureReason ?? 'declined', chargeId: event.chargeId };
}

/*
 * Charges the reservation and returns what happened, whichever tells first: the charge
 * activity's answer or the provider's webhook. If the charge gives up (deadline) the provider
 * is asked whether it captured anything after all; only a definite "nothing" is a failure.
 */
export async function collectPayment(
  reservationId: string,
  paymentMethod: string,
  events: readonly ChargeEvent[],
): Promise<ChargeOutcome> {
  const scope = new CancellationScope();
  const charge = scope.run(() => charging.chargePayment({ reservationId, paymentMethod }));
  const fromActivity = charge.then(
    (outcome) => ({ outcome }),
    (error: unknown) => ({ error }),
  );
  const fromWebhook = condition(() => settledByWebhook(events) !== undefined).then(() => ({
    outcome: settledByWebhook(events)!,
  }));

  const first = await Promise.race([fromActivity, fromWebhook]);
  if ('outcome' in first) {
    scope.cancel(); // a webhook won: stop retrying the charge (it is idempotent anyway)
    return first.outcome;
  }
  log.warn('charge gave up; asking the provider what happened', { reservationId, error: String(first.error) });
  try {
    const found = await reconciling.findCapturedCharge({ reservationId });
    if (found.kind === 'succeeded') return found;
    return settledByWebhook(events) ?? { kind: 'declined', reason: 'payment_unconfirmed' };
  } catch {
    return settledByWebhook(events) ?? { kind: 'declined', reason: 'payment_unconfirmed' };
  }
}
