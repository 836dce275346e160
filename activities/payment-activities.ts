import { ApplicationFailure, log } from '@temporalio/activity';
import type { Pool } from 'pg';
import { completeSale } from '../db/queries/complete-sale';
import { findReservation } from '../db/queries/find-reservation';
import { markPaymentPending } from '../db/queries/mark-payment-pending';
import {
  bindGateway,
  boundGateway,
  countAttempt,
  countRefused,
  failOver,
  moveVoidedCharge,
  reachedAttempts,
} from '../db/queries/payment-attempts';
import { recordNotification } from '../db/queries/record-notification';
import { recordRefund, recordRefundFailure } from '../db/queries/record-refund';
import { reservationPrice } from '../db/queries/sale-price';
import { chargeIdempotencyKey, refundIdempotencyKey, type ChargeOutcome, type NotificationOutcome } from '../domain/payment';
import type { Notifier } from './notifier';
import {
  gatewayByName,
  gatewayNamed,
  neverReachedGateway,
  type GatewayChargeResult,
  type PaymentGateways,
} from './payment-gateway';

export interface PaymentActivityDeps {
  pool: Pool;
  gateways: PaymentGateways;
  notifier: Notifier;
}

export interface ChargeRef {
  reservationId: string;
  chargeId: string;
  gateway: string;
}

/** Requests that reached a gateway without an answer before the charge is moved even with its breaker closed. */
export const UNANSWERED_ATTEMPTS_BEFORE_MOVING = 2;

/** The charge key was voided at this gateway: the charge has moved; the next attempt follows it. */
export class ChargeMovedError extends Error {
  override readonly name = 'ChargeMovedError';
}

function toOutcome(result: Exclude<GatewayChargeResult, { kind: 'voided' }>, gateway: string): ChargeOutcome {
  switch (result.kind) {
    case 'succeeded':
      return { kind: 'succeeded', chargeId: result.charge.id, gateway };
    case 'declined':
      return { kind: 'declined', reason: result.reason, chargeId: result.charge?.id };
    case 'rejected':
      return { kind: 'declined', reason: `rejected_${result.status}` };
  }
}

export function createPaymentActivities({ pool, gateways, notifier }: PaymentActivityDeps) {
  async function chargeAt(gateway: string, reservationId: string, paymentMethod: string): Promise<ChargeOutcome> {
    const price = await reservationPrice(pool, reservationId);
    await countAttempt(pool, reservationId);
    const { client, breaker } = gatewayNamed(gateways, gateway);
    const send = () =>
      client.charge({
        idempotencyKey: chargeIdempotencyKey(reservationId),
        amountCents: price.amountCents,
        currency: price.currency,
        paymentMethod,
        reference: reservationId,
      });
    try {
      const result = await (breaker ? breaker.run(send) : send());
      if (result.kind === 'voided') throw new ChargeMovedError(`the charge key was voided at ${gateway}`);
      return toOutcome(result, gateway);
    } catch (error) {
      if (neverReachedGateway(error)) await countRefused(pool, reservationId);
      throw error;
    }
  }

  /*
   * Leaves a failing gateway that requests may have reached: only once it voided the charge key
   * (so nothing was charged there and a request still in flight cannot charge) does the charge
   * move; if a charge was made with the key, that charge is the answer.
   */
  async function leaveIfFailing(
    reservationId: string,
    from: string,
    to: string,
  ): Promise<{ kind: 'settled'; outcome: ChargeOutcome } | { kind: 'charge-at'; gateway: string }> {
    const reached = await reachedAttempts(pool, reservationId);
    const breakerOpen = gatewayNamed(gateways, from).breaker?.isOpen() ?? false;
    if (reached === 0 || (!breakerOpen && reached < UNANSWERED_ATTEMPTS_BEFORE_MOVING))
      return { kind: 'charge-at', gateway: from };
    const answer = await gatewayByName(gateways, from).voidChargeKey(chargeIdempotencyKey(reservationId));
    if (answer.kind === 'charged') {
      const { charge } = answer;
      if (charge.status === 'succeeded')
        return { kind: 'settled', outcome: { kind: 'succeeded', chargeId: charge.id, gateway: from } };
      if (charge.status === 'failed') {
        return {
          kind: 'settled',
          outcome: { kind: 'declined', reason: charge.failureReason ?? 'declined', chargeId: charge.id },
        };
      }
      return { kind: 'charge-at', gateway: from }; // still processing there: its answer comes on the same key
    }
    const gateway = await moveVoidedCharge(pool, reservationId, from, to);
    log.warn('payment gateway failing; charge key voided there, the charge moves', {
      reservationId,
      from,
      to: gateway,
      reached,
      breakerOpen,
    });
    return { kind: 'charge-at', gateway };
  }

  return {
    async markPaymentPending({
      reservationId,
      paymentMethod,
    }: {
      reservationId: string;
      paymentMethod: string;
    }): Promise<boolean> {
      return markPaymentPending(pool, reservationId, paymentMethod);
    },

    /*
     * Charges the reservation once, however often it is retried: the idempotency key is the
     * reservation's. The charge starts at the primary and moves to the secondary when the primary
     * refused every connection so far (or its circuit breaker refused to send), or when requests
     * reached it unanswered and it then voided the key (`leaveIfFailing`). Never back.
     */
    async chargePayment({
      reservationId,
      paymentMethod,
    }: {
      reservationId: string;
      paymentMethod: string;
    }): Promise<ChargeOutcome> {
      const secondary = gateways.secondary?.name;
      let gateway = await bindGateway(pool, reservationId, gateways.primary.name);
      if (secondary && gateway !== secondary) {
        const left = await leaveIfFailing(reservationId, gateway, secondary);
        if (left.kind === 'settled') return left.outcome;
        gateway = left.gateway;
      }
      try {
        return await chargeAt(gateway, reservationId, paymentMethod);
      } catch (error) {
        if (!secondary || gateway === secondary || !neverReachedGateway(error)) throw error;
        const moved = await failOver(pool, reservationId, gateway, secondary);
        if (moved !== secondary) throw error;
        log.warn('payment gateway refused every connection; failing over', { reservationId, from: gateway, to: secondary });
        return chargeAt(secondary, reservationId, paymentMethod);
      }
    },

    /** After the charge gave up: did the gateway capture anything for this reservation after all? */
    async findCapturedCharge({ reservationId }: { reservationId: string }): Promise<ChargeOutcome | { kind: 'none' }> {
      const gateway = await boundGateway(pool, reservationId);
      if (!gateway) return { kind: 'none' };
      const charges = await gatewayByName(gateways, gateway).chargesByReference(reservationId);
      const captured = charges.find((charge) => charge.status === 'succeeded');
      if (captured) return { kind: 'succeeded', chargeId: captured.id, gateway };
      if (charges.some((charge) => charge.status === 'processing')) throw new Error('a charge is still processing');
      return { kind: 'none' };
    },

    async completeSale({ reservationId, chargeId, gateway }: ChargeRef): Promise<boolean> {
      const price = await reservationPrice(pool, reservationId);
      const result = await completeSale(pool, { reservationId, chargeId, gateway, ...price });
      log.info('complete sale', { reservationId, chargeId, result });
      return result !== 'not-pending';
    },

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

    async notifyOutcome({ reservationId, outcome }: { reservationId: string; outcome: NotificationOutcome }): Promise<void> {
      const reservation = await findReservation(pool, reservationId);
      if (!reservation) throw new Error(`reservation ${reservationId} does not exist`);
      await notifier.send({
        key: `${reservationId}:${outcome}`,
        reservationId,
        shopperId: reservation.user_id,
        outcome,
        at: new Date().toISOString(),
      });
      await recordNotification(pool, reservationId, outcome);
    },
  };
}

/** The failure type of a refund the provider refused for good (never retried). */
export const REFUND_REFUSED = 'refund-refused';

/**
 * A 4xx that describes the charge or the request (not found, invalid, refused) will be the same on
 * every retry. A 409 `charge-not-captured` may be a charge still processing, and 429 says "later".
 */
function refusedForGood(result: { kind: string; status?: number; problem?: unknown }): boolean {
  if (result.kind === 'declined') return true;
  if (result.kind !== 'rejected' || result.status === undefined) return false;
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

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
