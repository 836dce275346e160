/**
 * What the payment activities need from a payment provider. psp/client.ts implements it over
 * HTTP; the worker binds one client per gateway (primary, optional secondary).
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
  | { kind: 'rejected'; status: number; problem: unknown };

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
  chargesByReference(reference: string): Promise<GatewayCharge[]>;
}

export interface PaymentGateways {
  primary: { name: string; client: GatewayClient };
  secondary?: { name: string; client: GatewayClient };
}

/**
 * True only when the request certainly never reached the provider (connection refused, no such
 * host). Resets, timeouts and 5xx may follow a charge the provider did make.
 */
export function neverReachedGateway(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'reachedServer' in error && error.reachedServer === false;
}

export function gatewayByName(gateways: PaymentGateways, name: string): GatewayClient {
  if (gateways.primary.name === name) return gateways.primary.client;
  if (gateways.secondary?.name === name) return gateways.secondary.client;
  throw new Error(`no payment gateway named ${name} is configured`);
}
