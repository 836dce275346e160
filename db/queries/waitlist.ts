import type { Pool, PoolClient } from 'pg';
import type { ReservationStatus } from '../../domain/reservation';
import { withTransaction, type Queryable } from '../pool';

/*
 * A waitlist sale's lock between joins and the release that makes a unit available
 * (db/queries/release-reservation.ts): joins take it shared, so they never wait for one another;
 * that release takes it exclusively. Two-key advisory locks live in their own key space; the
 * first key names this use, the second the sale.
 */
const WAITLIST_LOCK_CLASS = 6_0006;

export async function lockWaitlistExclusive(client: PoolClient, saleId: string): Promise<void> {
  await client.query({
    name: 'waitlist-lock-exclusive',
    text: `select pg_advisory_xact_lock($1::int, hashtext($2::text))`,
    values: [WAITLIST_LOCK_CLASS, saleId],
  });
}

export interface WaitlistEntryRow {
  id: string;
  sale_id: string;
  user_id: string;
  state: 'waiting' | 'offered' | 'passed_over';
  joined_at: Date;
  reservation_id: string | null;
  /** The offered reservation's status and hold end, once offered. */
  reservation_status: ReservationStatus | null;
  expires_at: Date | null;
  /** 1 for the next to be offered while waiting; 0 afterwards. */
  position: number;
}

const ENTRY_SELECT = `
  select w.id, w.sale_id, w.user_id, w.state, w.joined_at, w.reservation_id,
         r.status as reservation_status, r.expires_at,
         case when w.state = 'waiting'
              then (select count(*) from waitlist_entries x
                    where x.sale_id = w.sale_id and x.state = 'waiting' and x.id < w.id)::int + 1
              else 0 end as position
  from waitlist_entries w left join reservations r on r.id = w.reservation_id
  where w.sale_id = $1::uuid and w.user_id = $2::text`;

export async function findWaitlistEntry(db: Queryable, saleId: string, userId: string): Promise<WaitlistEntryRow | undefined> {
  const { rows } = await db.query<WaitlistEntryRow>({
    name: 'waitlist-find-entry',
    text: ENTRY_SELECT,
    values: [saleId, userId],
  });
  return rows[0];
}

export type JoinResult =
  | { kind: 'joined'; entry: WaitlistEntryRow }
  | { kind: 'already-joined'; entry: WaitlistEntryRow }
  | { kind: 'already-reserved'; reservationId: string }
  | { kind: 'units-available' };

/*
 * One short transaction under the sale's waitlist lock (shared): the shopper's entry if they
 * have one; otherwise no entry while they hold or own a unit of the sale, or while a unit is
 * available; otherwise a new entry at the tail (FIFO by the entry's identity).
 */
export async function joinWaitlist(pool: Pool, saleId: string, userId: string): Promise<JoinResult> {
  return withTransaction(pool, async (client) => {
    await client.query({
      name: 'waitlist-lock-shared',
      text: `select pg_advisory_xact_lock_shared($1::int, hashtext($2::text))`,
      values: [WAITLIST_LOCK_CLASS, saleId],
    });
    const existing = await findWaitlistEntry(client, saleId, userId);
    if (existing) return { kind: 'already-joined', entry: existing };
    const { rows } = await client.query<{ live_id: string | null; available: boolean }>({
      name: 'waitlist-join-checks',
      text: `select (select id from reservations
                     where sale_id = $1::uuid and user_id = $2::text and status in ('held', 'payment_pending', 'paid')
                     limit 1) as live_id,
                    exists (select 1 from units where sale_id = $1::uuid and status = 'available') as available`,
      values: [saleId, userId],
    });
    const checks = rows[0]!;
    if (checks.live_id) return { kind: 'already-reserved', reservationId: checks.live_id };
    if (checks.available) return { kind: 'units-available' };
    const inserted = await client.query({
      name: 'waitlist-insert-entry',
      text: `insert into waitlist_entries (sale_id, user_id) values ($1::uuid, $2::text)
             on conflict (sale_id, user_id) do nothing`,
      values: [saleId, userId],
    });
    // A concurrent join of the same shopper inserted first: theirs is the entry.
    const entry = (await findWaitlistEntry(client, saleId, userId))!;
    return { kind: inserted.rowCount === 1 ? 'joined' : 'already-joined', entry };
  });
}

/** Shoppers still waiting on a sale's waitlist. */
export async function countWaiting(db: Queryable, saleId: string): Promise<number> {
  const { rows } = await db.query<{ waiting: number }>({
    name: 'waitlist-count-waiting',
    text: `select count(*)::int as waiting from waitlist_entries where sale_id = $1::uuid and state = 'waiting'`,
    values: [saleId],
  });
  return rows[0]!.waiting;
}
