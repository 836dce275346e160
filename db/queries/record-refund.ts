import type { Queryable } from '../pool';

export interface RefundedCharge {
  reservationId: string;
  chargeId: string;
  gateway: string;
  amountCents: number;
  currency: string;
  refundId: string;
}

/**
 * Records a capture that was refunded because it did not buy a unit (invariant 4), and shows it
 * on the reservation's payment unless the reservation was paid with another charge. Idempotent.
 */
export async function recordRefund(db: Queryable, refund: RefundedCharge): Promise<void> {
  await db.query(`update reservations set payment_status = 'refunded' where id = $1::uuid and status <> 'paid'`, [
    refund.reservationId,
  ]);
  await db.query(
    `insert into charges (id, reservation_id, gateway, amount_cents, currency, status, refund_id, refunded_at)
     values ($1::text, $2::uuid, $3::text, $4::int, $5::text, 'refunded', $6::text, now())
     on conflict (id) do update set status = 'refunded', refund_id = excluded.refund_id, refunded_at = coalesce(charges.refunded_at, now()),
       refund_failure = null`,
    [refund.chargeId, refund.reservationId, refund.gateway, refund.amountCents, refund.currency, refund.refundId],
  );
}

export interface UnrefundedCharge {
  reservationId: string;
  chargeId: string;
  gateway: string;
  amountCents: number;
  currency: string;
  /** Why the refund failed: the provider's refusal, or the retries running out. */
  failure: string;
}

/**
 * Records a capture that should have been refunded and could not be (invariant 4 stays broken
 * until support settles it by hand; the invariant checker names it). Idempotent; never downgrades
 * a recorded refund.
 */
export async function recordRefundFailure(db: Queryable, charge: UnrefundedCharge): Promise<void> {
  await db.query(
    `insert into charges (id, reservation_id, gateway, amount_cents, currency, status, refund_failure, refund_failed_at)
     values ($1::text, $2::uuid, $3::text, $4::int, $5::text, 'refund_failed', $6::text, now())
     on conflict (id) do update set status = 'refund_failed', refund_failure = excluded.refund_failure,
       refund_failed_at = coalesce(charges.refund_failed_at, now())
     where charges.status <> 'refunded'`,
    [charge.chargeId, charge.reservationId, charge.gateway, charge.amountCents, charge.currency, charge.failure],
  );
}

/** Records why a payment failed on the reservation (the release itself is releaseReservation). */
export async function recordPaymentFailure(db: Queryable, reservationId: string, reason: string): Promise<void> {
  await db.query(
    `update reservations set payment_status = 'failed', failure_reason = $2::text
     where id = $1::uuid and status in ('payment_pending', 'payment_failed')`,
    [reservationId, reason],
  );
}
