/**
 * Payment types shared by the API, the activities and the workflows. Pure: no Node built-ins.
 */

/** Test tokens and real-looking ones alike: `tok_` and 1-64 word characters. */
export const PAYMENT_METHOD_PATTERN = /^tok_\w{1,64}$/;

/** One charge idempotency key per reservation, the same for every retry of its charge. */
export function chargeIdempotencyKey(reservationId: string): string {
  return `charge-${reservationId}`;
}

export function refundIdempotencyKey(chargeId: string): string {
  return `refund-${chargeId}`;
}

export type ChargeEventType = 'charge.succeeded' | 'charge.failed' | 'charge.refunded';

/** A provider webhook, as the API hands it to the reservation workflow. */
export interface ChargeEvent {
  eventId: string;
  type: ChargeEventType;
  chargeId: string;
  gateway: string;
  failureReason?: string;
}

/**
 * What the charge activity concluded, as the workflow sees it (the provider's answer to one request
 * is payments/gateway.ts's `GatewayChargeResult`). Declines are results, not errors: not retried.
 */
export type ChargeOutcome =
  { kind: 'succeeded'; chargeId: string; gateway: string } | { kind: 'declined'; reason: string; chargeId?: string };

export type NotificationOutcome = 'paid' | 'payment_failed' | 'expired' | 'cancelled';
