import { log } from '@temporalio/activity';
import { completeSale } from '../db/queries/complete-sale';
import { boundGateway } from '../db/queries/payment-attempts';
import { reservationPrice } from '../db/queries/sale-price';
import type { ChargeOutcome } from '../domain/payment';
import type { ActivityDeps } from './deps';
import { createCharge, type PaymentRequest } from './charge';
import { createOutcomeNotice } from './outcome-notice';
import { gatewayByName } from './payment-gateway';

/** A capture at a gateway, as the workflow names it. */
export interface ChargeRef {
  reservationId: string;
  chargeId: string;
  gateway: string;
}

export interface ChargeAndSellResult {
  outcome: ChargeOutcome;
  /** With a successful charge: true when the sale was completed with it (false: the reservation was no longer payment_pending). */
  sold?: boolean;
  /** With sold: whether the shopper's `paid` notice went out here (if not, the workflow sends it). */
  notified?: boolean;
}

/** The activities of the payment phase (workflows/payment-phase.ts). */
export function createPaymentPhaseActivities(deps: ActivityDeps) {
  const { pool, gateways } = deps;
  const charge = createCharge({ pool, gateways });
  const notifyOutcome = createOutcomeNotice(deps);

  async function sell({ reservationId, chargeId, gateway }: ChargeRef): Promise<boolean> {
    const price = await reservationPrice(pool, reservationId);
    const result = await completeSale(pool, { reservationId, chargeId, gateway, ...price });
    log.info('complete sale', { reservationId, chargeId, result });
    return result !== 'not-pending';
  }

  return {
    /**
     * The charge, and on success the sale and the `paid` notice: one activity, so a paid
     * reservation records one activity instead of three. Every part is idempotent on its own
     * (the charge's key, completeSale's `already-sold`, the notice's claim), so a retry repeats
     * nothing that already happened. A notice that fails does not fail the charge (whose retries
     * are bounded by the payment deadline): it is reported as not sent and the workflow sends it
     * with its own retries (workflows/activity-stubs.ts `notifying`).
     */
    async chargeAndSell(input: PaymentRequest): Promise<ChargeAndSellResult> {
      const outcome = await charge(input);
      if (outcome.kind !== 'succeeded') return { outcome };
      const sold = await sell({ reservationId: input.reservationId, chargeId: outcome.chargeId, gateway: outcome.gateway });
      if (!sold) return { outcome, sold };
      try {
        await notifyOutcome({ reservationId: input.reservationId, outcome: 'paid' });
        return { outcome, sold, notified: true };
      } catch (error) {
        log.warn('paid notice not sent with the sale; the workflow sends it', {
          reservationId: input.reservationId,
          error: String(error),
        });
        return { outcome, sold, notified: false };
      }
    },

    /** Completes the sale with a charge a webhook reported; false when the reservation was no longer payment_pending. */
    completeSale: sell,

    /** After the charge gave up: did the gateway capture anything for this reservation after all? */
    async findCapturedCharge({ reservationId }: { reservationId: string }): Promise<ChargeOutcome | { kind: 'none' }> {
      const gateway = await boundGateway(pool, reservationId);
      if (!gateway) return { kind: 'none' };
      const charges = await gatewayByName(gateways, gateway).chargesByReference(reservationId);
      const captured = charges.find((found) => found.status === 'succeeded');
      if (captured) return { kind: 'succeeded', chargeId: captured.id, gateway };
      if (charges.some((found) => found.status === 'processing')) throw new Error('a charge is still processing');
      return { kind: 'none' };
    },
  };
}
