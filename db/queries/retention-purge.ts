import type { Queryable } from '../pool';

/*
 * The retention purge's statements (activities/retention-purge.ts). Each deletes at most `limit`
 * rows in one autocommit statement, so no transaction outlives a batch and a crash loses nothing
 * but the batch; each finds its rows through an index of migrations/0018.
 */

/** A surge window's index (api/services/waiting-room.ts counts joins per 10 s window). */
const POW_WINDOW_SECONDS = 10;
/** Join counts older than this are purged; the surge reads only the last 20 s, reportJoins itself drops rows a minute old. */
export const POW_JOIN_COUNTS_KEPT_SECONDS = 600;

/**
 * Marks up to `limit` waiting rooms sold out more than `days` ago for the purge of their tickets
 * (from then on the invariant checker leaves their queue alone). A sold-out room stays sold out:
 * every unit is sold or withdrawn, and neither comes back.
 */
export async function markSoldOutRoomsForPurge(db: Queryable, days: number, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'retention-mark-sold-out-rooms',
    text: `update waiting_rooms set tickets_purged_at = now()
           where sale_id in (
             select sale_id from waiting_rooms
             where sold_out_at is not null and tickets_purged_at is null
               and sold_out_at < now() - make_interval(days => $1::int)
             order by sold_out_at
             limit $2::int)`,
    values: [days, limit],
  });
  return rowCount ?? 0;
}

/** Deletes up to `limit` queue tickets of marked rooms; a claim admitted by one keeps its reservation (migrations/0018). */
export async function purgeQueueTickets(db: Queryable, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'retention-purge-queue-tickets',
    text: `delete from queue_tickets where id in (
             select t.id from waiting_rooms w join queue_tickets t on t.sale_id = w.sale_id
             where w.tickets_purged_at is not null
             limit $1::int)`,
    values: [limit],
  });
  return rowCount ?? 0;
}

/** Deletes up to `limit` proof-of-work join counts of windows older than POW_JOIN_COUNTS_KEPT_SECONDS (a small unlogged table: no index). */
export async function purgePowJoinCounts(db: Queryable, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'retention-purge-pow-join-counts',
    text: `delete from pow_join_counts where ctid in (
             select ctid from pow_join_counts
             where window_index < floor((extract(epoch from now()) - $1::int) / $2::int)::bigint
             limit $3::int)`,
    values: [POW_JOIN_COUNTS_KEPT_SECONDS, POW_WINDOW_SECONDS, limit],
  });
  return rowCount ?? 0;
}

/** Deletes up to `limit` webhook deliveries received more than `days` ago (past their deduplication window). */
export async function purgeWebhookEvents(db: Queryable, days: number, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'retention-purge-webhook-events',
    text: `delete from webhook_events where id in (
             select id from webhook_events
             where received_at < now() - make_interval(days => $1::int)
             limit $2::int)`,
    values: [days, limit],
  });
  return rowCount ?? 0;
}

/**
 * Deletes up to `limit` notices that finished (sent, failed or dropped) more than `days` ago. A
 * pending one is kept whatever its age: it is still owed.
 */
export async function purgeFinishedNotices(db: Queryable, days: number, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'retention-purge-finished-notices',
    text: `delete from notifications where id in (
             select id from notifications
             where state in ('sent', 'failed', 'dropped')
               and coalesce(sent_at, failed_at, next_attempt_at) < now() - make_interval(days => $1::int)
             limit $2::int)`,
    values: [days, limit],
  });
  return rowCount ?? 0;
}
