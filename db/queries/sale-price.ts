import type { Queryable } from '../pool';

export interface ReservationPrice {
  amountCents: number;
  currency: string;
}

export async function reservationPrice(db: Queryable, reservationId: string): Promise<ReservationPrice> {
  const { rows } = await db.query<ReservationPrice>(
    `select s.price_cents as "amountCents", s.currency
     from reservations r join sales s on s.id = r.sale_id
     where r.id = $1::uuid`,
    [reservationId],
  );
  if (!rows[0]) throw new Error(`reservation ${reservationId} does not exist`);
  return rows[0];
}
