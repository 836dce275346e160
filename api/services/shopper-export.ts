import type { Pool } from 'pg';
import type { DispatchedKind } from '../../db/queries/due-notifications';
import { readShopperRows, type ShopperRows } from '../../db/queries/shopper-export';
import type { NotificationOutcome } from '../../domain/payment';
import type { ExportedNotice, ShopperExport } from '../../domain/shopper-data';
import { composeNoticeEmail, composeOutcomeEmail, type NoticeDetails } from '../../notifications/emails';
import { shopperAddress } from '../../notifications/notifier';

const OUTCOMES: readonly string[] = ['paid', 'payment_failed', 'expired', 'cancelled'] satisfies NotificationOutcome[];

const iso = (date: Date) => date.toISOString();
const isoOrNull = (date: Date | null) => (date ? date.toISOString() : null);

/** `GET /v1/me/export`: everything stored under the shopper's id (docs/CONTRACT.md, "Erasure and export"). */
export async function exportShopper(
  deps: { pool: Pool; notifyEmailDomain: string },
  shopperId: string,
  now = new Date(),
): Promise<ShopperExport> {
  const rows = await readShopperRows(deps.pool, shopperId);
  const address = shopperAddress(shopperId, deps.notifyEmailDomain);
  return {
    shopperId,
    exportedAt: iso(now),
    reservations: rows.reservations.map((r) => ({
      id: r.id,
      saleId: r.sale_id,
      saleName: r.sale_name,
      unitId: r.unit_id,
      status: r.status,
      origin: r.origin,
      priceCents: r.price_cents,
      currency: r.currency,
      idempotencyKey: r.idempotency_key,
      paymentMethod: r.payment_method,
      paymentStatus: r.payment_status,
      chargeId: r.charge_id,
      failureReason: r.failure_reason,
      queueTicketId: r.queue_ticket_id,
      createdAt: iso(r.created_at),
      expiresAt: iso(r.expires_at),
      releasedAt: isoOrNull(r.released_at),
      paidAt: isoOrNull(r.paid_at),
    })),
    paymentAttempts: rows.paymentAttempts.map((a) => ({
      reservationId: a.reservation_id,
      gateway: a.gateway,
      attempts: a.attempts,
      refused: a.refused,
      createdAt: iso(a.created_at),
      updatedAt: iso(a.updated_at),
    })),
    charges: rows.charges.map((c) => ({
      id: c.id,
      reservationId: c.reservation_id,
      gateway: c.gateway,
      amountCents: c.amount_cents,
      currency: c.currency,
      status: c.status,
      refundId: c.refund_id,
      refundFailure: c.refund_failure,
      createdAt: iso(c.created_at),
      refundedAt: isoOrNull(c.refunded_at),
      refundFailedAt: isoOrNull(c.refund_failed_at),
    })),
    holdExtensions: rows.holdExtensions.map((h) => ({
      reservationId: h.reservation_id,
      seq: h.seq,
      seconds: h.seconds,
      extendedBy: h.extended_by,
      reason: h.reason,
      expiresAt: iso(h.expires_at),
      createdAt: iso(h.created_at),
    })),
    webhookEvents: rows.webhookEvents.map((w) => ({
      id: w.id,
      type: w.type,
      chargeId: w.charge_id,
      reservationId: w.reference,
      receivedAt: iso(w.received_at),
      processedAt: isoOrNull(w.processed_at),
    })),
    queueTickets: rows.queueTickets.map((t) => ({
      id: t.id,
      saleId: t.sale_id,
      challengeId: t.challenge_id,
      joinedAt: iso(t.joined_at),
      position: t.position,
      admittedAt: isoOrNull(t.admitted_at),
      admittedUntil: isoOrNull(t.admitted_until),
      leftAt: isoOrNull(t.left_at),
    })),
    waitlistEntries: rows.waitlistEntries.map((w) => ({
      saleId: w.sale_id,
      state: w.state,
      reservationId: w.reservation_id,
      joinedAt: iso(w.joined_at),
      offeredAt: isoOrNull(w.offered_at),
    })),
    notices: rows.notices.map((n) => toExportedNotice(n, address)),
  };
}

/** The notice with its e-mail as the worker composes it (a hold reminder names the hold's current end). */
function toExportedNotice(n: ShopperRows['notices'][number], address: string): ExportedNotice {
  const details: NoticeDetails = {
    saleName: n.sale_name,
    amountCents: n.price_cents,
    currency: n.currency,
    ...(n.unit_id !== null && { unitId: n.unit_id }),
    ...(n.expires_at && { expiresAt: n.expires_at }),
  };
  const email = OUTCOMES.includes(n.kind)
    ? composeOutcomeEmail(n.kind as NotificationOutcome, details)
    : composeNoticeEmail(n.kind as DispatchedKind, details);
  return {
    kind: n.kind,
    subject: n.subject,
    reservationId: n.reservation_id,
    saleId: n.sale_id,
    state: n.state,
    address,
    email: { subject: email.subject, text: email.text },
    attempts: n.attempts,
    sentAt: isoOrNull(n.sent_at),
    failedAt: isoOrNull(n.failed_at),
    lastError: n.last_error,
  };
}
