import type { Queryable } from '../pool';

export interface ShopperPresence {
  /** Reservations of the shopper still holding a unit or waiting for a payment. */
  live: string[];
  /** Ended reservations still under the shopper id, and under the pseudonym (their workflows to check and delete). */
  ended: string[];
  erased: string[];
  /** Rows of any kind still keyed by the shopper id: 0 once an erasure has nothing left to do. */
  remaining: number;
}

/** Where the shopper id (and the pseudonym) still appears: one statement over the by-shopper indexes of migrations/0017. */
export async function shopperPresence(db: Queryable, shopperId: string, pseudonym: string): Promise<ShopperPresence> {
  const { rows } = await db.query<ShopperPresence>(
    `select
       coalesce((select array_agg(id::text order by created_at) from reservations
                 where user_id = $1::text and status in ('held', 'payment_pending')), '{}') as live,
       coalesce((select array_agg(id::text order by created_at) from reservations
                 where user_id = $1::text and status not in ('held', 'payment_pending')), '{}') as ended,
       coalesce((select array_agg(id::text order by created_at) from reservations where user_id = $2::text), '{}') as erased,
       (select count(*) from reservations where user_id = $1::text)::int
         + (select count(*) from queue_tickets where shopper_id = $1::text)::int
         + (select count(*) from waitlist_entries where user_id = $1::text)::int
         + (select count(*) from notifications where shopper_id = $1::text)::int as remaining`,
    [shopperId, pseudonym],
  );
  return rows[0]!;
}
