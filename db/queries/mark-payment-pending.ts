import type { Queryable } from '../pool';

/** held → payment_pending. Idempotent: true when the reservation is payment_pending afterwards. */
export async function markPaymentPending(db: Queryable, reservationId: string, paymentMethod: string): Promise<boolean> {
  const { rows } = await db.query<{ status: string }>(
    `with moved as (
       update reservations
       set status = 'payment_pending', payment_method = $2::text, payment_status = 'pending'
       where id = $1::uuid and status = 'held'
       returning status
     )
     select status from moved
     union all
     select status from reservations where id = $1::uuid and not exists (select 1 from moved)`,
    [reservationId, paymentMethod],
  );
  return rows[0]?.status === 'payment_pending';
}
