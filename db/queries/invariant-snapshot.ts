import type { Pool } from 'pg';
import { withTransaction } from '../pool';

export interface InvariantSnapshot {
  units: number | undefined;
  releasePolicy: string | undefined;
  counts: { available: number; held: number; sold: number; withdrawn: number; total: number };
  /** Waitlist sales: entries still waiting, and offers whose reservation is not the waiter's waitlist hold of this sale. */
  waitlist: { waiting: number; offered: number };
  mismatchedOffers: Array<{ entry_id: string; reservation_id: string }>;
  /** Invariant 2: shoppers holding or owning more than one unit. */
  shoppersWithSeveral: Array<{ user_id: string; live: number }>;
  /** Invariant 3: sold units without exactly one paid reservation holding exactly one capture. */
  soldWithoutOnePaidCapture: Array<{
    unit_id: number;
    reservation_id: string | null;
    reservation_status: string | null;
    captures: number;
  }>;
  /** Invariant 3: paid reservations whose unit is not sold to them. */
  paidWithoutSoldUnit: Array<{ reservation_id: string; unit_status: string | null }>;
  /** Invariant 7: units and reservations that disagree about a hold. */
  heldUnitsWithoutOpenReservation: Array<{ unit_id: number; reservation_id: string | null; reservation_status: string | null }>;
  openReservationsWithoutHeldUnit: Array<{ reservation_id: string; unit_status: string | null }>;
  /** Invariant 6: open reservations, with what the orphan check needs. */
  openReservations: Array<{ id: string; status: string; expires_at: Date; created_at: Date; workflow_started_at: Date | null }>;
  /** Every reservation of the sale with its status and charge, for the ledger comparison. */
  reservations: Array<{ id: string; status: string; charge_id: string | null }>;
  recordedCharges: Array<{ id: string; reservation_id: string; status: string }>;
  /** Invariant 4: captures whose refund failed for good (charges.status = 'refund_failed'). */
  failedRefunds: Array<{ id: string; reservation_id: string; reservation_status: string; refund_failure: string }>;
}

/*
 * One consistent read of everything the invariants need, in a read-only REPEATABLE READ
 * transaction: a handful of index scans over one sale, short enough to keep off the claim's way.
 */
export async function invariantSnapshot(pool: Pool, saleId: string): Promise<InvariantSnapshot> {
  return withTransaction(
    pool,
    async (client) => {
      const q = async <T>(sql: string) => (await client.query(sql, [saleId])).rows as T[];
      const [sale] = await q<{ units: number; release_policy: string }>(
        `select units, release_policy from sales where id = $1::uuid`,
      );
      const [counts] = await q<InvariantSnapshot['counts']>(
        `select count(*) filter (where status = 'available')::int as available, count(*) filter (where status = 'held')::int as held,
              count(*) filter (where status = 'sold')::int as sold, count(*) filter (where status = 'withdrawn')::int as withdrawn,
              count(*)::int as total
       from units where sale_id = $1::uuid`,
      );
      const [waitlist] = await q<InvariantSnapshot['waitlist']>(
        `select count(*) filter (where state = 'waiting')::int as waiting, count(*) filter (where state = 'offered')::int as offered
       from waitlist_entries where sale_id = $1::uuid`,
      );
      const snapshot: InvariantSnapshot = {
        units: sale?.units,
        releasePolicy: sale?.release_policy,
        counts: counts!,
        waitlist: waitlist!,
        mismatchedOffers: await q(
          `select w.id as entry_id, w.reservation_id from waitlist_entries w left join reservations r on r.id = w.reservation_id
         where w.sale_id = $1::uuid and w.state = 'offered'
           and (r.sale_id is distinct from w.sale_id or r.user_id is distinct from w.user_id or r.origin is distinct from 'waitlist')`,
        ),
        shoppersWithSeveral: await q(
          `select user_id, count(*)::int as live from reservations
         where sale_id = $1::uuid and status in ('held', 'payment_pending', 'paid') group by user_id having count(*) > 1`,
        ),
        soldWithoutOnePaidCapture: await q(
          `select u.id as unit_id, r.id as reservation_id, r.status as reservation_status,
                (select count(*)::int from charges c where c.reservation_id = r.id and c.status = 'captured') as captures
         from units u left join reservations r on r.id = u.reservation_id
         where u.sale_id = $1::uuid and u.status = 'sold'
           and (r.status is distinct from 'paid' or r.unit_id <> u.id
                or (select count(*) from charges c where c.reservation_id = r.id and c.status = 'captured') <> 1)`,
        ),
        paidWithoutSoldUnit: await q(
          `select r.id as reservation_id, u.status as unit_status
         from reservations r left join units u on u.sale_id = r.sale_id and u.id = r.unit_id
         where r.sale_id = $1::uuid and r.status = 'paid' and (u.status is distinct from 'sold' or u.reservation_id is distinct from r.id)`,
        ),
        heldUnitsWithoutOpenReservation: await q(
          `select u.id as unit_id, r.id as reservation_id, r.status as reservation_status
         from units u left join reservations r on r.id = u.reservation_id
         where u.sale_id = $1::uuid and u.status = 'held'
           and (r.status is null or r.status not in ('held', 'payment_pending') or r.unit_id <> u.id)`,
        ),
        openReservationsWithoutHeldUnit: await q(
          `select r.id as reservation_id, u.status as unit_status
         from reservations r left join units u on u.sale_id = r.sale_id and u.id = r.unit_id
         where r.sale_id = $1::uuid and r.status in ('held', 'payment_pending')
           and (u.status is distinct from 'held' or u.reservation_id is distinct from r.id)`,
        ),
        openReservations: await q(
          `select id, status, expires_at, created_at, workflow_started_at from reservations
         where sale_id = $1::uuid and status in ('held', 'payment_pending')`,
        ),
        reservations: await q(`select id, status, charge_id from reservations where sale_id = $1::uuid`),
        recordedCharges: await q(
          `select c.id, c.reservation_id, c.status from charges c join reservations r on r.id = c.reservation_id where r.sale_id = $1::uuid`,
        ),
        failedRefunds: await q(
          `select c.id, c.reservation_id, r.status as reservation_status, c.refund_failure
         from charges c join reservations r on r.id = c.reservation_id
         where r.sale_id = $1::uuid and c.status = 'refund_failed'`,
        ),
      };
      return snapshot;
    },
    'begin isolation level repeatable read read only',
  );
}
