import type { Queryable } from '../pool';
import { RESERVATION_COLUMNS, type ReservationRow } from '../rows';

export async function findReservation(db: Queryable, reservationId: string): Promise<ReservationRow | undefined> {
  const { rows } = await db.query<ReservationRow>({
    name: 'find-reservation',
    text: `select ${RESERVATION_COLUMNS} from reservations where id = $1::uuid`,
    values: [reservationId],
  });
  return rows[0];
}

export async function findLiveReservation(db: Queryable, saleId: string, userId: string): Promise<ReservationRow | undefined> {
  const { rows } = await db.query<ReservationRow>({
    name: 'find-live-reservation',
    text: `select ${RESERVATION_COLUMNS} from reservations
           where sale_id = $1::uuid and user_id = $2::text and status in ('held', 'payment_pending', 'paid')`,
    values: [saleId, userId],
  });
  return rows[0];
}

export async function findReservationByIdempotencyKey(
  db: Queryable,
  saleId: string,
  userId: string,
  idempotencyKey: string,
): Promise<ReservationRow | undefined> {
  const { rows } = await db.query<ReservationRow>({
    name: 'find-reservation-by-idempotency-key',
    text: `select ${RESERVATION_COLUMNS} from reservations
           where sale_id = $1::uuid and user_id = $2::text and idempotency_key = $3::text`,
    values: [saleId, userId, idempotencyKey],
  });
  return rows[0];
}
