import type { Queryable } from '../pool';

/** True the first time for a reservation and outcome; the caller sends only then. */
export async function recordNotification(db: Queryable, reservationId: string, outcome: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into notifications (reservation_id, outcome) values ($1::uuid, $2::text) on conflict do nothing`,
    [reservationId, outcome],
  );
  return rowCount === 1;
}
