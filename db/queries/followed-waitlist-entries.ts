import type { Queryable } from '../pool';
import type { WaitlistEntryRow } from './waitlist';

/*
 * The entries of several shoppers on one sale's waitlist, each with its position, in one
 * statement: the waiting entries are numbered once (row_number over the partial index
 * waitlist_waiting, migrations/0006), not counted again for every entry as
 * findWaitlistEntry does for one. The waitlist streams of a sale share this read
 * (api/services/waitlist-feed.ts).
 */
export async function findFollowedWaitlistEntries(
  db: Queryable,
  saleId: string,
  userIds: readonly string[],
): Promise<WaitlistEntryRow[]> {
  const { rows } = await db.query<WaitlistEntryRow>({
    name: 'waitlist-find-followed-entries',
    text: `
      with ranked as (
        select id, row_number() over (order by id)::int as position
        from waitlist_entries
        where sale_id = $1::uuid and state = 'waiting'
      )
      select w.id, w.sale_id, w.user_id, w.state, w.joined_at, w.reservation_id,
             r.status as reservation_status, r.expires_at,
             coalesce(ranked.position, 0) as position
      from waitlist_entries w
      left join ranked on ranked.id = w.id
      left join reservations r on r.id = w.reservation_id
      where w.sale_id = $1::uuid and w.user_id = any($2::text[])`,
    values: [saleId, userIds],
  });
  return rows;
}
