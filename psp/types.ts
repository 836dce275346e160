/** The PSP's wire types, shared by the simulator and its client. */

export type ChargeStatus = 'processing' | 'succeeded' | 'failed' | 'refunded';
export type FailureReason = 'card_declined' | 'invalid_payment_method';

export interface Charge {
  id: string;
  object: 'charge';
  status: ChargeStatus;
  amountCents: number;
  currency: string;
  paymentMethod: string;
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

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extra: string]: unknown;
}

export type WebhookEventType = 'charge.succeeded' | 'charge.failed' | 'charge.refunded';

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

export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  duplicatesSent: number;
  lateSent: number;
  reorderedSent: number;
}

export interface FaultStats {
  resetsBefore: number;
  resetsAfter: number;
  errorsBefore: number;
  errorsAfter: number;
  slow: number;
}

export interface Ledger {
  gateway: string;
  charges: Charge[];
  refunds: Refund[];
  /** Charge keys voided before any charge used them (this process's run). */
  voidedKeys: string[];
  webhooks: WebhookStats;
  faults: FaultStats;
}
