import type { GatewayBreaker } from './gateway-breaker';

/**
 * What the payment activities need from a payment provider. psp/client.ts implements it over
 * HTTP; the worker binds one client per gateway (primary, optional secondary), each with its
 * circuit breaker.
 */
export interface GatewayCharge {
  id: string;
  status: 'succeeded' | 'failed' | 'refunded' | 'processing';
  amountCents: number;
  currency: string;
  reference: string;
  failureReason?: string;
}

export type GatewayChargeResult =
  | { kind: 'succeeded'; charge: GatewayCharge }
  | { kind: 'declined'; charge?: GatewayCharge; reason: string }
  /** The key was voided at this gateway: the charge moved to another one. */
  | { kind: 'voided' }
  | { kind: 'rejected'; status: number; problem: unknown };

/** `voided`: nothing was charged with the key and nothing ever will be; `charged`: what was. */
export type GatewayKeyVoidResult = { kind: 'voided' } | { kind: 'charged'; charge: GatewayCharge };

export type GatewayRefundResult =
  | { kind: 'succeeded'; refund: { id: string } }
  | { kind: 'declined'; charge?: GatewayCharge; reason: string }
  | { kind: 'rejected'; status: number; problem: unknown };

export interface GatewayClient {
  charge(request: {
    idempotencyKey: string;
    amountCents: number;
    currency: string;
    paymentMethod: string;
    reference: string;
  }): Promise<GatewayChargeResult>;
  refund(request: { idempotencyKey: string; chargeId: string; reason?: string }): Promise<GatewayRefundResult>;
  /** Voids a charge key at this gateway, atomically with finding the charge made with it. */
  voidChargeKey(idempotencyKey: string): Promise<GatewayKeyVoidResult>;
  chargesByReference(reference: string): Promise<GatewayCharge[]>;
}

export interface Gateway {
  name: string;
  client: GatewayClient;
  /** Stops new charge requests to a failing gateway; none: every request is sent. */
  breaker?: GatewayBreaker;
}

export interface PaymentGateways {
  primary: Gateway;
  secondary?: Gateway;
}

/**
 * True only when the request certainly never reached the provider (connection refused, no such
 * host). Resets, timeouts and 5xx may follow a charge the provider did make.
 */
export function neverReachedGateway(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'reachedServer' in error && error.reachedServer === false;
}

export function gatewayByName(gateways: PaymentGateways, name: string): GatewayClient {
  return gatewayNamed(gateways, name).client;
}

export function gatewayNamed(gateways: PaymentGateways, name: string): Gateway {
  if (gateways.primary.name === name) return gateways.primary;
  if (gateways.secondary?.name === name) return gateways.secondary;
  throw new Error(`no payment gateway named ${name} is configured`);
}
