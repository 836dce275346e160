import { log } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  bindGateway,
  countAttempt,
  countRefused,
  failOver,
  moveVoidedCharge,
  reachedAttempts,
} from '../db/queries/payment-attempts';
import { reservationPrice } from '../db/queries/sale-price';
import { chargeIdempotencyKey, type ChargeOutcome } from '../domain/payment';
import type { GatewayChargeResult } from '../payments/gateway';
import { gatewayByName, gatewayNamed, neverReachedGateway, type PaymentGateways } from './payment-gateway';

/** A reservation's payment as the shopper submitted it. */
export interface PaymentRequest {
  reservationId: string;
  paymentMethod: string;
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

/**
 * The charge of a reservation, once however often it is retried: the idempotency key is the
 * reservation's. The charge starts at the primary and moves to the secondary when the primary
 * refused every connection so far (or its circuit breaker refused to send), or when requests
 * reached it unanswered and it then voided the key (`leaveIfFailing`). Never back.
 */
export function createCharge({ pool, gateways }: { pool: Pool; gateways: PaymentGateways }) {
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

  return async function charge({ reservationId, paymentMethod }: PaymentRequest): Promise<ChargeOutcome> {
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
  };
}
