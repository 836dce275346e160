/**
 * What the service stores about one shopper, as `GET /v1/me/export` answers it, and what an
 * erasure (`POST /v1/admin/shoppers/:shopperId/erase`) did. Pure types, shared by the API's
 * services and the tests. Times are ISO 8601 (UTC); absent values are null, so the shape is fixed.
 */
import type { PaymentStatus, ReservationOrigin, ReservationStatus } from './reservation';

export interface ShopperExport {
  shopperId: string;
  exportedAt: string;
  reservations: ExportedReservation[];
  /** The charge's gateway binding and request counts (migrations/0002). */
  paymentAttempts: Array<{
    reservationId: string;
    gateway: string;
    attempts: number;
    refused: number;
    createdAt: string;
    updatedAt: string;
  }>;
  /** Captures the provider reported, and their refunds. */
  charges: Array<{
    id: string;
    reservationId: string;
    gateway: string;
    amountCents: number;
    currency: string;
    status: 'captured' | 'refunded' | 'refund_failed';
    refundId: string | null;
    refundFailure: string | null;
    createdAt: string;
    refundedAt: string | null;
    refundFailedAt: string | null;
  }>;
  /** Support's extensions of the shopper's holds. */
  holdExtensions: Array<{
    reservationId: string;
    seq: number;
    seconds: number;
    extendedBy: string;
    reason: string | null;
    expiresAt: string;
    createdAt: string;
  }>;
  /** Provider webhooks about the shopper's reservations. */
  webhookEvents: Array<{
    id: string;
    type: string;
    chargeId: string;
    reservationId: string;
    receivedAt: string;
    processedAt: string | null;
  }>;
  queueTickets: Array<{
    id: string;
    saleId: string;
    challengeId: string;
    joinedAt: string;
    position: number | null;
    admittedAt: string | null;
  }>;
  waitlistEntries: Array<{
    saleId: string;
    state: 'waiting' | 'offered' | 'passed_over';
    reservationId: string | null;
    joinedAt: string;
    offeredAt: string | null;
  }>;
  notices: ExportedNotice[];
}

export interface ExportedReservation {
  id: string;
  saleId: string;
  saleName: string;
  unitId: number;
  status: ReservationStatus;
  origin: ReservationOrigin;
  priceCents: number;
  currency: string;
  idempotencyKey: string | null;
  /** The provider token the shopper paid with (never card data). */
  paymentMethod: string | null;
  paymentStatus: PaymentStatus | null;
  chargeId: string | null;
  failureReason: string | null;
  queueTicketId: string | null;
  createdAt: string;
  expiresAt: string;
  releasedAt: string | null;
  paidAt: string | null;
}

export interface ExportedNotice {
  kind: string;
  /** What the notice is about: a reservation id, or `sale:<sale id>:shopper:<shopper id>`. */
  subject: string;
  reservationId: string | null;
  saleId: string | null;
  state: 'pending' | 'sent' | 'failed' | 'dropped';
  /** The address the worker mails (`shopperAddress`, notifications/notifier.ts). */
  address: string;
  /** The e-mail's subject line and text, composed as the worker composes them (notifications/emails.ts). */
  email: { subject: string; text: string };
  attempts: number;
  sentAt: string | null;
  failedAt: string | null;
  lastError: string | null;
}

/** How many rows (and Temporal executions) an erasure pseudonymised or deleted, all its attempts together. */
export interface ErasedCounts {
  /** Kept for the accounts, with the pseudonym in place of the shopper id. */
  pseudonymised: { reservations: number; queueTickets: number };
  deleted: {
    waitlistEntries: number;
    notices: number;
    webhookEvents: number;
    holdExtensions: number;
    workflows: number;
  };
}

export interface ErasureView {
  status: 'erased';
  /** `erased:<HMAC-SHA256 of the shopper id under ERASURE_SECRET, hex>`: what the kept rows carry now. */
  pseudonym: string;
  startedAt: string;
  finishedAt: string;
  /** Calls that ran the erasure's steps (a retry after a crash adds one; a call after it was done does not). */
  attempts: number;
  erased: ErasedCounts;
}

/** The prefix of every pseudonym; no shopper token's subject may start with it (api/auth.ts). */
export const PSEUDONYM_PREFIX = 'erased:';
