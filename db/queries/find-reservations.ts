import type { Queryable } from '../pool';
import { RESERVATION_COLUMNS, type ReservationRow } from '../rows';

/** Several reservations by id in one statement (the reservation streams' shared re-read). */
export async function findReservations(db: Queryable, reservationIds: readonly string[]): Promise<ReservationRow[]> {
  const { rows } = await db.query<ReservationRow>({
    name: 'find-reservations',
    text: `select ${RESERVATION_COLUMNS} from reservations where id = any($1::uuid[])`,
    values: [reservationIds],
  });
  return rows;
}
