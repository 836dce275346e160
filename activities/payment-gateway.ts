import type { GatewayBreaker } from './gateway-breaker';

import type { PaymentGateway } from '../payments/gateway';

/**
 * The gateways the payment activities charge through: the worker binds one `PaymentGateway`
 * (payments/http-gateway.ts) per configured provider (primary, optional secondary), each with its
 * circuit breaker.
 */
export interface Gateway {
  name: string;
  client: PaymentGateway;
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

export function gatewayByName(gateways: PaymentGateways, name: string): PaymentGateway {
  return gatewayNamed(gateways, name).client;
}

export function gatewayNamed(gateways: PaymentGateways, name: string): Gateway {
  if (gateways.primary.name === name) return gateways.primary;
  if (gateways.secondary?.name === name) return gateways.secondary;
  throw new Error(`no payment gateway named ${name} is configured`);
}
