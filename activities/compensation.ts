import { ApplicationFailure, log } from '@temporalio/activity';
import { findReservation } from '../db/queries/find-reservation';
import { recordPaymentFailure, recordRefund, recordRefundFailure } from '../db/queries/record-refund';
import { releaseReservation } from '../db/queries/release-reservation';
import { reservationPrice } from '../db/queries/sale-price';
import { refundIdempotencyKey, type NotificationOutcome } from '../domain/payment';
import type { ReleaseReason, ReservationStatus } from '../domain/reservation';
import { noCrashPoints } from '../domain/crash-points';
import type { ActivityDeps } from './deps';
import { createOutcomeNotice } from './outcome-notice';
import type { ChargeRef } from './payment-phase';
import type { GatewayRefundResult } from '../payments/gateway';
import { gatewayByName } from './payment-gateway';

export interface ReleaseInput {
  reservationId: string;
  reason: ReleaseReason;
  /** With reason payment_failed: the provider's decline reason, kept on the reservation. */
  failureReason?: string;
}

export interface ReleaseResult {
  /** True when this call released the unit; false when it was already released (a retry). */
  released: boolean;
  /** The reservation's status in the database after the call. */
  status: ReservationStatus;
  /** False when the shopper's notice failed here (the workflow sends it again afterwards). */
  notified?: boolean;
}

/** The failure type of a refund the provider refused for good (never retried). */
export const REFUND_REFUSED = 'refund-refused';

/** The activities that undo a reservation (workflows/compensation.ts): release the unit, refund a capture that bought nothing. */
export function createCompensationActivities(deps: ActivityDeps) {
  const { pool, gateways, onCrashPoint = noCrashPoints } = deps;
  const notifyOutcome = createOutcomeNotice(deps);
  return {
    /**
     * Releases the unit (idempotent: a retry after a committed attempt finds it released) and
     * tells the shopper the reservation's final status. A notice that fails (an SMTP server
     * refusing the address) does not fail the release: it is reported as not sent and the
     * workflow sends it with its own retries once it has settled the reservation, so a cancel
     * waiting on the workflow is not held up by an e-mail.
     */
    async releaseAndNotify({ reservationId, reason, failureReason }: ReleaseInput): Promise<ReleaseResult> {
      if (failureReason) await recordPaymentFailure(pool, reservationId, failureReason);
      const outcome = await releaseReservation(pool, reservationId, reason);
      if (outcome.released && outcome.unit === 'offered') onCrashPoint('after-waitlist-offer', [outcome.saleId]);
      const reservation = await findReservation(pool, reservationId);
      if (!reservation) throw new Error(`reservation ${reservationId} does not exist`);
      log.info('release', {
        reservationId,
        reason,
        released: outcome.released,
        ...(outcome.released && { unit: outcome.unit }),
        ...(outcome.released && outcome.unit === 'offered' && { offerId: outcome.offerId }),
        status: reservation.status,
      });
      const released = { released: outcome.released, status: reservation.status };
      try {
        await notifyOutcome({ reservationId, outcome: reservation.status as NotificationOutcome });
        return released;
      } catch (error) {
        log.warn('release notice not sent with the release; the workflow sends it', { reservationId, error: String(error) });
        return { ...released, notified: false };
      }
    },

    notifyOutcome,

    /** Whether this charge is the one that bought the reservation's unit. */
    async isSaleCharge({ reservationId, chargeId }: { reservationId: string; chargeId: string }): Promise<boolean> {
      const reservation = await findReservation(pool, reservationId);
      return reservation?.status === 'paid' && reservation.charge_id === chargeId;
    },

    /** Refunds a capture that bought nothing and records the refund. Idempotent by charge. */
    async refundCharge({ reservationId, chargeId, gateway }: ChargeRef): Promise<string> {
      const result = await gatewayByName(gateways, gateway).refund({
        idempotencyKey: refundIdempotencyKey(chargeId),
        chargeId,
        reason: 'the reservation had released its unit',
      });
      let refundId: string | undefined;
      if (result.kind === 'succeeded') refundId = result.refund.id;
      else if (result.kind === 'rejected' && result.status === 409) refundId = existingRefundId(result.problem);
      if (!refundId) {
        const refusal = `refund of ${chargeId} refused: ${JSON.stringify(result)}`;
        // A refusal that says something about the charge itself will not change on a retry.
        const forGood = refusedForGood(result);
        if (forGood) log.error('the provider refused a refund for good', { reservationId, chargeId, refusal });
        throw ApplicationFailure.create({
          type: forGood ? REFUND_REFUSED : 'refund-rejected',
          message: refusal,
          nonRetryable: forGood,
        });
      }
      const price = await reservationPrice(pool, reservationId);
      await recordRefund(pool, { reservationId, chargeId, gateway, refundId, ...price });
      log.info('refunded a charge that bought nothing', { reservationId, chargeId, refundId });
      return refundId;
    },

    /** A capture whose refund failed (refused for good, or out of retries): kept for support (invariant 4). */
    async recordRefundFailure({ reservationId, chargeId, gateway, failure }: ChargeRef & { failure: string }): Promise<void> {
      const price = await reservationPrice(pool, reservationId);
      await recordRefundFailure(pool, { reservationId, chargeId, gateway, failure, ...price });
      log.error('refund failed; recorded as an unrefunded capture for support to settle', { reservationId, chargeId, failure });
    },
  };
}

/**
 * A 4xx that describes the charge or the request (not found, invalid, refused) will be the same on
 * every retry. A 409 `charge-not-captured` may be a charge still processing, and 429 says "later".
 */
function refusedForGood(result: GatewayRefundResult): boolean {
  if (result.kind !== 'rejected') return false;
  if (result.status < 400 || result.status >= 500 || result.status === 429) return false;
  const type =
    typeof result.problem === 'object' && result.problem !== null && 'type' in result.problem ? String(result.problem.type) : '';
  return !(result.status === 409 && type.endsWith('charge-not-captured'));
}

function existingRefundId(problem: unknown): string | undefined {
  if (typeof problem !== 'object' || problem === null || !('refund' in problem)) return undefined;
  const refund = problem.refund;
  return typeof refund === 'object' && refund !== null && 'id' in refund && typeof refund.id === 'string' ? refund.id : undefined;
}
