import type { Queryable } from '../pool';
import { RESERVATION_COLUMNS, type ReservationRow } from '../rows';

/** A leased reservation with its sale's name, for the workflow's summary in the Web UI. */
export type LeasedReservation = ReservationRow & { sale_name: string };

/*
 * Takes up to `limit` reservations whose workflow has not been started and leases them to the
 * caller for `leaseSeconds`, in one short statement. A relay that dies mid-batch loses its
 * lease and another relay (or itself, restarted) takes the rows again; starting twice is
 * harmless because workflow ids are unique. A row whose start the relay gave up
 * (`start_refused_at`, releaseReservation) is never taken again.
 */
export async function leaseUnstartedReservations(
  db: Queryable,
  limit: number,
  leaseSeconds: number,
): Promise<LeasedReservation[]> {
  const { rows } = await db.query<LeasedReservation>(
    `with leased as (
       update reservations
       set relay_lease_until = now() + make_interval(secs => $2::int)
       where id in (
         select id from reservations
         where workflow_started_at is null and start_refused_at is null
           and (relay_lease_until is null or relay_lease_until < now())
         order by created_at
         limit $1::int
         for update skip locked
       )
       returning ${RESERVATION_COLUMNS}
     )
     select leased.*, sales.name as sale_name from leased join sales on sales.id = leased.sale_id`,
    [limit, leaseSeconds],
  );
  return rows;
}

export async function markWorkflowsStarted(db: Queryable, reservationIds: string[]): Promise<void> {
  if (reservationIds.length === 0) return;
  await db.query(
    `update reservations set workflow_started_at = now(), relay_lease_until = null
     where id = any($1::uuid[]) and workflow_started_at is null`,
    [reservationIds],
  );
}
