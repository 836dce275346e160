/**
 * The payment provider contract: what the product needs from a provider, and the provider's wire
 * types. `payments/http-gateway.ts` implements it over the provider's HTTP API; the simulator
 * (psp-simulator/) serves that API and imports only this module and `webhook-signature.ts`.
 * Business results are values (discriminated unions); only transient failures throw, as
 * `GatewayUnavailableError`.
 */

export type ChargeStatus = 'processing' | 'succeeded' | 'failed' | 'refunded';
export type FailureReason = 'card_declined' | 'invalid_payment_method';

export interface Charge {
  id: string;
  object: 'charge';
  status: ChargeStatus;
  amountCents: number;
  currency: string;
  paymentMethod: string;
  /** Our reservation id. */
  reference: string;
  gateway: string;
  createdAt: string;
  metadata?: Record<string, string>;
  failureReason?: FailureReason;
  refundId?: string;
}

export interface Refund {
  id: string;
  object: 'refund';
  chargeId: string;
  amountCents: number;
  currency: string;
  status: 'succeeded';
  reference: string;
  reason?: string;
  createdAt: string;
}

/** An `application/problem+json` answer; `type` ends in the provider's error code. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extra: string]: unknown;
}

export type WebhookEventType = 'charge.succeeded' | 'charge.failed' | 'charge.refunded';

/** What the provider POSTs to `/v1/webhooks/payments`, signed with `webhook-signature.ts`. */
export interface WebhookEvent {
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: {
    chargeId: string;
    reference: string;
    amountCents: number;
    currency: string;
    status: ChargeStatus;
    failureReason?: FailureReason;
    refundId?: string;
    gateway: string;
  };
}

/** Everything one gateway ever charged and refunded: what the invariant checker compares with our records. */
export interface Ledger {
  gateway: string;
  charges: Charge[];
  refunds: Refund[];
  /** Charge keys voided before any charge used them. */
  voidedKeys: string[];
}

export interface ChargeRequest {
  /** One per reservation (`chargeIdempotencyKey`): every retry of a charge sends the same key. */
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  paymentMethod: string;
  /** Our reservation id. */
  reference: string;
  metadata?: Record<string, string>;
}

export interface RefundRequest {
  idempotencyKey: string;
  chargeId: string;
  reason?: string;
}

/** 4xx other than 402: the request itself is wrong (or conflicts); retrying it cannot help. */
export interface Rejected {
  kind: 'rejected';
  status: number;
  problem: ProblemBody;
}

/** The provider's answer to one charge request (domain/payment.ts's `ChargeOutcome` is what the charge activity concludes). */
export type GatewayChargeResult =
  | { kind: 'succeeded'; charge: Charge; replayed: boolean }
  | { kind: 'declined'; charge: Charge; reason: FailureReason; replayed: boolean }
  /** The key was voided (`voidChargeKey`): this provider will never charge with it. */
  | { kind: 'voided' }
  | Rejected;

/** `voided`: no charge was made with the key and none ever will be; `charged`: the one that was. */
export type GatewayKeyVoidResult = { kind: 'voided' } | { kind: 'charged'; charge: Charge };

export type GatewayRefundResult = { kind: 'succeeded'; refund: Refund; replayed: boolean } | Rejected;

/** One payment provider, as the worker's payment activities, the API's admin routes and the invariant checker use it. */
export interface PaymentGateway {
  /** Charges once per idempotency key, however often it is sent. */
  charge(request: ChargeRequest): Promise<GatewayChargeResult>;
  refund(request: RefundRequest): Promise<GatewayRefundResult>;
  /** Voids a charge key, atomically with finding the charge made with it. Repeatable; transient failures throw. */
  voidChargeKey(idempotencyKey: string): Promise<GatewayKeyVoidResult>;
  /** undefined when the provider has no such charge. */
  getCharge(id: string): Promise<Charge | undefined>;
  /** The charges made for one reservation (the late-capture lookup). */
  chargesByReference(reference: string): Promise<Charge[]>;
  /** Every charge and refund (the invariant checker, invariants 3, 4 and 5). */
  ledger(): Promise<Ledger>;
}

/**
 * The provider could not give an answer. `reachedServer: false` only when the request certainly
 * never arrived (connection refused, DNS failure): only then may another gateway be tried without
 * risking a double charge. Resets, timeouts and 5xx are `true`: the charge may have happened.
 */
export class GatewayUnavailableError extends Error {
  override readonly name = 'GatewayUnavailableError';
  constructor(
    message: string,
    readonly reachedServer: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
