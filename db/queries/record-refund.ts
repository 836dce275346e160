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
     on conflict (id) do update set status = 'refunded', refund_id = excluded.refund_id, refunded_at = coalesce(charges.refunded_at, now())`,
    [refund.chargeId, refund.reservationId, refund.gateway, refund.amountCents, refund.currency, refund.refundId],
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
