/** The simulator's own types; the wire types are the payment contract's (payments/gateway.ts). */
import type { Ledger } from '../payments/gateway';

export type {
  Charge,
  ChargeStatus,
  FailureReason,
  ProblemBody,
  Refund,
  WebhookEvent,
  WebhookEventType,
} from '../payments/gateway';

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

/** `GET /v1/ledger` here: the contract's ledger and what this simulator injected. */
export interface SimulatorLedger extends Ledger {
  webhooks: WebhookStats;
  faults: FaultStats;
}
