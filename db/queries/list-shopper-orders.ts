import type { PaymentStatus, ReservationStatus } from '../../domain/reservation';
import type { Queryable } from '../pool';

export interface ShopperOrderRow {
  id: string;
  sale_id: string;
  sale_name: string;
  status: ReservationStatus;
  price_cents: number;
  currency: string;
  payment_status: PaymentStatus | null;
  captured_cents: number;
  refunded_cents: number;
  created_at: Date;
  expires_at: Date;
  paid_at: Date | null;
  released_at: Date | null;
  /** created_at to the microsecond (a JavaScript Date keeps milliseconds), as the keyset needs it. */
  created_key: string;
}

/** The keyset position of a row: the next page starts strictly after it. */
export interface OrderKey {
  /** `YYYY-MM-DDTHH:MM:SS.ffffffZ`, created_key of the row. */
  createdAt: string;
  id: string;
}

/*
 * One page of a shopper's reservations across every sale, newest first, after `after`: the
 * equality on user_id and the row comparison on (created_at, id) are the index
 * reservations_by_shopper_newest (migrations/0016) in its own order, so Postgres reads `limit + 1`
 * index entries and sorts nothing. Two statements, not one with `$3 is null or …`: a prepared
 * statement's generic plan could not use an optional condition as an index bound. Each row's sale
 * (by primary key) and charges (through charges_by_reservation) are lateral subqueries that cannot
 * become joins (`limit 1`, an aggregate), so the only plan is a nested loop over the index scan,
 * which keeps its order whatever the statistics say; as a plain join, a planner that expects few
 * rows hashes the sales and sorts the page.
 */
const SELECT = `
  select r.id, r.sale_id, s.name as sale_name, r.status, s.price_cents, s.currency, r.payment_status,
         c.captured_cents, c.refunded_cents, r.created_at, r.expires_at, r.paid_at, r.released_at,
         to_char(r.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_key
  from reservations r
  cross join lateral (select name, price_cents, currency from sales where id = r.sale_id limit 1) s
  cross join lateral (
    select coalesce(sum(amount_cents), 0)::int as captured_cents,
           coalesce(sum(amount_cents) filter (where status = 'refunded'), 0)::int as refunded_cents
    from charges where reservation_id = r.id
  ) c`;
const NEWEST_FIRST = 'order by r.created_at desc, r.id desc limit $2::int';

export const LIST_SHOPPER_ORDERS = {
  first: `${SELECT} where r.user_id = $1::text ${NEWEST_FIRST}`,
  after: `${SELECT} where r.user_id = $1::text and (r.created_at, r.id) < ($3::timestamptz, $4::uuid) ${NEWEST_FIRST}`,
};

/** Asks for one row more than `limit` to know whether another page follows. */
export async function listShopperOrders(
  db: Queryable,
  query: { shopperId: string; limit: number; after?: OrderKey },
): Promise<{ rows: ShopperOrderRow[]; more: boolean }> {
  const { after } = query;
  const { rows } = await db.query<ShopperOrderRow>(
    after
      ? {
          name: 'list-shopper-orders-after',
          text: LIST_SHOPPER_ORDERS.after,
          values: [query.shopperId, query.limit + 1, after.createdAt, after.id],
        }
      : { name: 'list-shopper-orders', text: LIST_SHOPPER_ORDERS.first, values: [query.shopperId, query.limit + 1] },
  );
  return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
}
