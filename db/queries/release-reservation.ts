import type { ReleaseReason } from '../../domain/reservation';
import type { Queryable } from '../pool';

/*
 * Ends a held (or payment-pending) reservation and makes its unit available again, in one
 * statement, so the two can never disagree, and notifies `unit_released` with the sale id on
 * commit. Idempotent: once the reservation has left held/payment_pending nothing matches and
 * nothing changes. Returns whether this call released it.
 */
export async function releaseReservation(db: Queryable, reservationId: string, reason: ReleaseReason): Promise<boolean> {
  const { rows } = await db.query<{ released: boolean }>(
    `with ended as (
       update reservations
       set status = $2::text, released_at = now()
       where id = $1::uuid and status in ('held', 'payment_pending')
       returning sale_id, unit_id
     ), freed as (
       update units u
       set status = 'available', reservation_id = null
       from ended
       where u.sale_id = ended.sale_id and u.id = ended.unit_id and u.reservation_id = $1::uuid and u.status = 'held'
       returning u.sale_id
     ), notified as (
       -- Tells every API process the sale has a unit again (api/services/sold-out-registry.ts).
       select pg_notify('unit_released', sale_id::text) from freed
     )
     select exists (select 1 from freed) as released, (select count(*) from notified) as notified`,
    [reservationId, reason],
  );
  return rows[0]?.released ?? false;
}
