import type { ReservationStatus } from '../../domain/reservation';
import type { Queryable } from '../pool';
import { RESERVATION_COLUMNS, type ReservationRow } from '../rows';

/**
 * A page of a sale's reservations of one status, oldest first, after the reservation `after`
 * (its id is the cursor; keyset on (created_at, id), index reservations_by_sale_status).
 * Asks for one row more than `limit` to know whether another page follows.
 */
export async function listReservations(
  db: Queryable,
  query: { saleId: string; status: ReservationStatus; limit: number; after?: string },
): Promise<{ rows: ReservationRow[]; more: boolean }> {
  const { rows } = await db.query<ReservationRow>({
    name: query.after ? 'list-reservations-after' : 'list-reservations',
    text: query.after
      ? `select ${RESERVATION_COLUMNS} from reservations
         where sale_id = $1::uuid and status = $2::text
           and (created_at, id) > (select created_at, id from reservations where id = $4::uuid and sale_id = $1::uuid)
         order by created_at, id limit $3`
      : `select ${RESERVATION_COLUMNS} from reservations
         where sale_id = $1::uuid and status = $2::text
         order by created_at, id limit $3`,
    values: query.after
      ? [query.saleId, query.status, query.limit + 1, query.after]
      : [query.saleId, query.status, query.limit + 1],
  });
  return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
}
