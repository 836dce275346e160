import { log } from '@temporalio/activity';
import type { ChargeOutcome, NotificationOutcome } from '../domain/payment';
import type { createPaymentActivities } from './payment-activities';
import type { createReservationActivities, ReleaseUnitInput, ReleaseUnitResult } from './reservation-activities';

export interface ChargeAndSellResult {
  outcome: ChargeOutcome;
  /** With a successful charge: true when the sale was completed with it (false: the reservation was no longer payment_pending). */
  sold?: boolean;
  /** With sold: whether the shopper's `paid` notice went out here (if not, the workflow sends it). */
  notified?: boolean;
}

/*
 * Steps of leanReservationWorkflow that always follow each other, as one activity each, so the
 * workflow records one activity (or one local-activity marker) instead of two or three. Every
 * part is idempotent on its own (the charge's key, completeSale's `already-sold`, the notice's
 * claim), so a retry of the whole repeats nothing that already happened.
 */
export function createCombinedSteps(
  payment: ReturnType<typeof createPaymentActivities>,
  reservation: ReturnType<typeof createReservationActivities>,
) {
  return {
    /**
     * The charge, and on success the sale and the `paid` notice. A notice that fails does not
     * fail the charge (whose retries are bounded by the payment deadline): it is reported as not
     * sent and the workflow sends it with the usual unbounded retries.
     */
    async chargeAndSell(input: { reservationId: string; paymentMethod: string }): Promise<ChargeAndSellResult> {
      const outcome = await payment.chargePayment(input);
      if (outcome.kind !== 'succeeded') return { outcome };
      const sold = await payment.completeSale({
        reservationId: input.reservationId,
        chargeId: outcome.chargeId,
        gateway: outcome.gateway,
      });
      if (!sold) return { outcome, sold };
      try {
        await payment.notifyOutcome({ reservationId: input.reservationId, outcome: 'paid' });
        return { outcome, sold, notified: true };
      } catch (error) {
        log.warn('paid notice not sent with the sale; the workflow sends it', {
          reservationId: input.reservationId,
          error: String(error),
        });
        return { outcome, sold, notified: false };
      }
    },

    /**
     * Releases the unit and tells the shopper the reservation's final status. As with the `paid`
     * notice, a notice that fails (an SMTP server refusing the address) does not fail the release:
     * it is reported as not sent and the workflow sends it with its own retries, after it has
     * settled the reservation (so a cancel waiting on the workflow is not held up by an e-mail).
     */
    async releaseAndNotify(input: ReleaseUnitInput): Promise<ReleaseUnitResult & { notified?: boolean }> {
      const released = await reservation.releaseUnit(input);
      try {
        await payment.notifyOutcome({ reservationId: input.reservationId, outcome: released.status as NotificationOutcome });
        return released;
      } catch (error) {
        log.warn('release notice not sent with the release; the workflow sends it', {
          reservationId: input.reservationId,
          error: String(error),
        });
        return { ...released, notified: false };
      }
    },
  };
}
