import type { Queryable } from '../pool';

/**
 * Records that a reservation's outcome notification was handed to the sink. The caller
 * (`notifyOutcome` in activities/outcome-notice.ts) sends first and records afterwards, on
 * every attempt, whatever this returns: keeping a notification to once per key
 * (`<reservationId>:<outcome>`) is the sink's job (`Notifier`), so a retry after a crash between
 * the two does not lose it. The e-mail sink (activities/email-notifier.ts) claims the row before
 * it sends and marks it sent, so for it this insert finds the row and does nothing. True when
 * this call inserted the row, false when it was there already.
 */
export async function recordNotification(db: Queryable, reservationId: string, outcome: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `insert into notifications (reservation_id, kind) values ($1::uuid, $2::text) on conflict do nothing`,
    [reservationId, outcome],
  );
  return rowCount === 1;
}
