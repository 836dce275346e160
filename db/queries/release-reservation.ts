import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { ReleasePolicy, ReleaseReason } from '../../domain/reservation';
import { withTransaction } from '../pool';
import { lockWaitlistExclusive } from './waitlist';

/** What a release did with the unit: nothing (not open any more), or where the unit went. */
export type ReleaseOutcome =
  | { released: false }
  | { released: true; saleId: string; unit: 'available' | 'withdrawn' }
  | { released: true; saleId: string; unit: 'offered'; offerId: string };

/*
 * Ends a held (or payment-pending) reservation and gives its unit back the way the sale's
 * `release_policy` says, in one short transaction, so the reservation and the unit can never
 * disagree:
 * - `relist`: the unit becomes available and `unit_released` is notified with the sale id on
 *   commit (api/services/sold-out-registry.ts);
 * - `undersell`: the unit is `withdrawn`, never to be claimed (invariant 1 counts it);
 * - `waitlist`: the unit becomes a new held reservation (origin `waitlist`, its own hold) for the
 *   shopper at the head of the sale's waitlist; the outbox relay starts its workflow like a
 *   claim's. Only while nobody waits does the unit become available, as for `relist`.
 * Idempotent: once the reservation has left held/payment_pending nothing matches and nothing
 * changes. Returns whether this call released it, and where the unit went.
 *
 * Locks, in order: the reservation row, its unit row, then (waitlist) the head entry of the
 * waitlist with SKIP LOCKED, so concurrent releases offer to successive waiters without queueing
 * on one another. Before a waitlist sale's unit is made available, the sale's waitlist lock is
 * taken exclusively and the head looked for again: a join holds that lock shared from its check
 * for available units to its commit, so a shopper can never join a waitlist that the release just
 * found empty while it makes a unit available (a join answers `units-available` instead).
 */
export async function releaseReservation(
  pool: Pool,
  reservationId: string,
  reason: ReleaseReason,
  /** The outbox relay giving up a start Temporal refused: only a hold without a workflow ends, and the refusal is kept. */
  startRefusal?: string,
): Promise<ReleaseOutcome> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      sale_id: string;
      unit_id: number;
      release_policy: ReleasePolicy;
      hold_seconds: number;
    }>({
      name: 'release-end-reservation',
      text: `with ended as (
                 update reservations
                 set status = $2::text, released_at = now(),
                     start_refusal = coalesce($3::text, start_refusal),
                     start_refused_at = case when $3::text is null then start_refused_at else now() end
                 where id = $1::uuid and status in ('held', 'payment_pending')
                   and ($3::text is null or (status = 'held' and workflow_started_at is null))
                 returning sale_id, unit_id
               )
               select ended.sale_id, ended.unit_id, s.release_policy, s.hold_seconds
               from ended join sales s on s.id = ended.sale_id
               join units u on u.sale_id = ended.sale_id and u.id = ended.unit_id
                 and u.reservation_id = $1::uuid and u.status = 'held'
               for update of u`,
      values: [reservationId, reason, startRefusal ?? null],
    });
    const ended = rows[0];
    // Not open any more (a retry), or its unit is not held by it (the checker names that, invariant 7).
    if (!ended) return { released: false };
    const unit = { saleId: ended.sale_id, unitId: ended.unit_id, from: reservationId };
    const saleId = unit.saleId;
    switch (ended.release_policy) {
      case 'relist':
        await makeAvailable(client, unit);
        return { released: true, saleId, unit: 'available' };
      case 'undersell':
        await client.query({
          name: 'release-withdraw-unit',
          text: `update units set status = 'withdrawn', reservation_id = null
                 where sale_id = $1::uuid and id = $2::int and reservation_id = $3::uuid`,
          values: [unit.saleId, unit.unitId, unit.from],
        });
        return { released: true, saleId, unit: 'withdrawn' };
      case 'waitlist': {
        let offerId = await offerToNextWaiter(client, unit, ended.hold_seconds);
        if (!offerId) {
          await lockWaitlistExclusive(client, saleId);
          offerId = await offerToNextWaiter(client, unit, ended.hold_seconds);
        }
        if (offerId) return { released: true, saleId, unit: 'offered', offerId };
        await makeAvailable(client, unit);
        return { released: true, saleId, unit: 'available' };
      }
    }
  });
}

interface ReleasedUnit {
  saleId: string;
  unitId: number;
  /** The reservation that gave it back. */
  from: string;
}

async function makeAvailable(client: PoolClient, unit: ReleasedUnit): Promise<void> {
  await client.query({
    name: 'release-make-available',
    text: `with freed as (
             update units set status = 'available', reservation_id = null
             where sale_id = $1::uuid and id = $2::int and reservation_id = $3::uuid
             returning sale_id
           )
           -- Tells every API process the sale has a unit again (api/services/sold-out-registry.ts).
           select pg_notify('unit_released', sale_id::text) from freed`,
    values: [unit.saleId, unit.unitId, unit.from],
  });
}

/*
 * Takes waiting entries from the head of the sale's waitlist (SKIP LOCKED: an entry another
 * release is offering to is passed by) until one can be offered the unit: the offer is inserted
 * as a held reservation unless the shopper already has a live one (invariant 2; the insert's
 * ON CONFLICT on the one-live-per-shopper index also covers a claim of theirs committing at this
 * moment), in which case the entry is `passed_over` and the next is tried. Returns the offer's
 * reservation id, or undefined when nobody (unlocked) waits.
 */
async function offerToNextWaiter(client: PoolClient, unit: ReleasedUnit, holdSeconds: number): Promise<string | undefined> {
  for (;;) {
    const { rows } = await client.query<{ id: string; user_id: string }>({
      name: 'waitlist-take-head',
      text: `select id, user_id from waitlist_entries
             where sale_id = $1::uuid and state = 'waiting'
             order by id
             limit 1
             for update skip locked`,
      values: [unit.saleId],
    });
    const head = rows[0];
    if (!head) return undefined;
    const offerId = randomUUID();
    const offered = await client.query({
      name: 'waitlist-insert-offer',
      text: `insert into reservations (id, sale_id, unit_id, user_id, status, expires_at, origin)
             values ($1::uuid, $2::uuid, $3::int, $4::text, 'held', now() + make_interval(secs => $5::int), 'waitlist')
             on conflict (sale_id, user_id) where status in ('held', 'payment_pending', 'paid') do nothing`,
      values: [offerId, unit.saleId, unit.unitId, head.user_id, holdSeconds],
    });
    if (offered.rowCount !== 1) {
      await client.query({
        name: 'waitlist-pass-over',
        text: `update waitlist_entries set state = 'passed_over' where id = $1::bigint`,
        values: [head.id],
      });
      continue;
    }
    await client.query({
      name: 'waitlist-hand-unit-over',
      text: `update units set reservation_id = $4::uuid
             where sale_id = $1::uuid and id = $2::int and reservation_id = $3::uuid and status = 'held'`,
      values: [unit.saleId, unit.unitId, unit.from, offerId],
    });
    await client.query({
      name: 'waitlist-mark-offered',
      text: `update waitlist_entries set state = 'offered', reservation_id = $2::uuid, offered_at = now() where id = $1::bigint`,
      values: [head.id, offerId],
    });
    return offerId;
  }
}
