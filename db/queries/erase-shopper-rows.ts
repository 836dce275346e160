import type { Queryable } from '../pool';

/*
 * The erasure's two database steps (api/services/erase-shopper.ts). Each is one statement, so it
 * commits whole with the counts it adds to the erasure row; each finds only what an earlier
 * attempt left, so a retry after a crash between them, or after either, finishes the work.
 * $1 is the shopper id, $2 the pseudonym. Only reservations that ended are touched: the service
 * refuses a shopper with a live hold or payment first, and one claimed meanwhile keeps its id
 * (the service's last look finds it).
 */

/** Adds the rows each CTE returned to `shopper_erasures.erased` (key: the CTE's name after `erased_`). */
function addCounts(keys: string[]): string {
  const pairs = keys.map((key) => `'${key}', coalesce((erased->>'${key}')::int, 0) + (select count(*)::int from erased_${key})`);
  return `update shopper_erasures set erased = erased || jsonb_build_object(${pairs.join(', ')}) where pseudonym = $2::text`;
}

/**
 * Step 1, what must stay for the accounts: the shopper's ended reservations (sold units, captures
 * and refunds point at them, and the invariant checker counts them) and queue tickets (the
 * waiting room's positions, shuffle and admissions are audited over them) get the pseudonym. The
 * reservation's Idempotency-Key and provider token, chosen by or for the shopper, are cleared.
 * Both in one statement, so the checker's match of a waiting-room claim to its shopper's ticket
 * holds at every commit.
 */
export async function pseudonymiseShopperRows(db: Queryable, shopperId: string, pseudonym: string): Promise<void> {
  await db.query(
    `with erased_reservations as (
       update reservations set user_id = $2::text, idempotency_key = null, payment_method = null
       where user_id = $1::text and status in ('paid', 'expired', 'cancelled', 'payment_failed')
       returning 1
     ), erased_queueTickets as (
       update queue_tickets t set shopper_id = $2::text
       where t.shopper_id = $1::text
         and not exists (select 1 from queue_tickets o where o.sale_id = t.sale_id and o.shopper_id = $2::text)
       returning 1
     )
     ${addCounts(['reservations', 'queueTickets'])}`,
    [shopperId, pseudonym],
  );
}

/**
 * Step 2, what nothing needs: support's hold extensions (their reasons may name the shopper),
 * webhook events about the reservations (past the provider's redelivery they deduplicate
 * nothing), notices (each names the shopper's mailbox) and waitlist entries.
 */
export async function deleteShopperRows(db: Queryable, shopperId: string, pseudonym: string): Promise<void> {
  await db.query(
    `with pseudonymised as (select id from reservations where user_id = $2::text),
     erased_holdExtensions as (
       delete from hold_extensions where reservation_id in (select id from pseudonymised) returning 1
     ), erased_webhookEvents as (
       delete from webhook_events where reference in (select id::text from pseudonymised) returning 1
     ), erased_notices as (
       delete from notifications
       where reservation_id in (select id from pseudonymised)
          or (reservation_id is null and shopper_id in ($1::text, $2::text))
       returning 1
     ), erased_waitlistEntries as (
       delete from waitlist_entries
       where user_id = $1::text and (reservation_id is null or reservation_id in (select id from pseudonymised))
       returning 1
     )
     ${addCounts(['holdExtensions', 'webhookEvents', 'notices', 'waitlistEntries'])}`,
    [shopperId, pseudonym],
  );
}
