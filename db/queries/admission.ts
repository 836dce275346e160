import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { shuffledQueue } from '../pre-queue-shuffle';
import type { AdmissionTickResult } from '../../domain/waiting-room';
import { withTransaction } from '../pool';
import { ADMISSION_LIVE_SQL } from './admission-window';

/** How many new arrivals one admission step orders at most (the rest wait for the next step). */
const ORDER_BATCH = 20_000;

/**
 * At the start: orders every ticket that joined before it by a fresh random seed
 * (db/pre-queue-shuffle.ts) and records the seed. Idempotent: once a seed is recorded it does
 * nothing. False while the database clock says the sale has not started.
 */
export async function shufflePreQueue(pool: Pool, saleId: string): Promise<boolean> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ shuffle_seed: string | null; started: boolean }>(
      `select w.shuffle_seed, s.starts_at <= now() as started
       from waiting_rooms w join sales s on s.id = w.sale_id
       where w.sale_id = $1::uuid for update of w`,
      [saleId],
    );
    const room = rows[0];
    if (!room) throw new Error(`sale ${saleId} has no waiting room`);
    if (room.shuffle_seed) return true;
    if (!room.started) return false;
    const { rows: members } = await client.query<{ id: string }>(
      `select t.id from queue_tickets t join sales s on s.id = t.sale_id
       where t.sale_id = $1::uuid and t.position is null and t.joined_at < s.starts_at`,
      [saleId],
    );
    const seed = randomBytes(32).toString('hex');
    const order = shuffledQueue(
      seed,
      members.map((m) => m.id),
    );
    await client.query(
      `update queue_tickets t set position = o.position
       from unnest($2::uuid[]) with ordinality as o(id, position)
       where t.sale_id = $1::uuid and t.id = o.id`,
      [saleId, order],
    );
    await client.query(
      `update waiting_rooms set shuffle_seed = $2::text, shuffled_at = now(), prequeue_size = $3::int, assigned = $3::int
       where sale_id = $1::uuid`,
      [saleId, seed, order.length],
    );
    return true;
  });
}

/*
 * One admission step (docs/DESIGN.md, "Waiting room"): orders the arrivals since the last step
 * FIFO behind everyone ordered before, then admits up to `budget` more, never more than the units
 * that could still be claimed: available units minus the admissions that are still running and
 * unspent (a shopper admitted who has not claimed yet may take one). An admission starts with the
 * room's confirm window and is extended to the whole admission when its shopper is first told
 * (db/queries/queue-tickets.ts `confirmAdmission`); one that runs out unused, or is given back
 * (`leaveQueue`), stops counting, so the next shoppers move up; the first claim spends it (that
 * unit is held; if it comes back, it is available to the next shopper, not kept for this one).
 * A ticket that left before its turn is admitted already over: it takes a place in the step's
 * budget, not a unit.
 *
 * `stepKey` (the tick's workflow time, strictly increasing along the workflow's runs) makes the
 * step idempotent: a key not above the last one recorded admits nothing and answers the result
 * recorded with it, so a retry of an attempt that committed but whose answer was lost, or a late
 * attempt of an older step, admits no second batch. Without a key (histories from before
 * migration 0015) the step is not recorded.
 */
export async function admitStep(pool: Pool, saleId: string, budget: number, stepKey?: number): Promise<AdmissionTickResult> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{
      assigned: number;
      serving: number;
      confirm_seconds: number;
      last_step_key: string | null;
      last_step_result: AdmissionTickResult | null;
    }>(
      `select assigned, serving, confirm_seconds, last_step_key, last_step_result
       from waiting_rooms where sale_id = $1::uuid for update`,
      [saleId],
    );
    const room = rows[0];
    if (!room) throw new Error(`sale ${saleId} has no waiting room`);
    if (stepKey !== undefined && room.last_step_key !== null && stepKey <= Number(room.last_step_key) && room.last_step_result)
      return room.last_step_result;
    const ordered = await client.query(
      `with arrivals as (
         select id, row_number() over (order by arrival) as rank from queue_tickets
         where sale_id = $1::uuid and position is null
         order by arrival limit $3::int
       )
       update queue_tickets t set position = $2::int + arrivals.rank
       from arrivals where t.id = arrivals.id`,
      [saleId, room.assigned, ORDER_BATCH],
    );
    const assigned = room.assigned + (ordered.rowCount ?? 0);
    const { rows: counts } = await client.query<{
      available: number;
      held: number;
      sold: number;
      units: number;
      pending: number;
    }>(
      `select count(*) filter (where u.status = 'available')::int as available,
              count(*) filter (where u.status = 'held')::int as held,
              count(*) filter (where u.status = 'sold')::int as sold,
              (select units from sales where id = $1::uuid) as units,
              (select count(*)::int from queue_tickets t join waiting_rooms w on w.sale_id = t.sale_id
               where t.sale_id = $1::uuid and t.admitted_at > now() - make_interval(secs => w.admission_seconds)
                 and ${ADMISSION_LIVE_SQL}
                 and not exists (select 1 from reservations r
                                 where r.sale_id = t.sale_id and r.user_id = t.shopper_id)) as pending
       from units u where u.sale_id = $1::uuid`,
      [saleId],
    );
    const { available, held, sold, units, pending } = counts[0]!;
    const admit = Math.max(0, Math.min(budget, available - pending, assigned - room.serving));
    const serving = room.serving + admit;
    if (admit > 0) {
      await client.query(
        `update queue_tickets
         set admitted_at = now(),
             admitted_until = case when left_at is null then now() + make_interval(secs => $4::int) else now() end
         where sale_id = $1::uuid and position > $2::int and position <= $3::int`,
        [saleId, room.serving, serving, room.confirm_seconds],
      );
    }
    // Nothing available and nothing held: no unit can come back, so the room is over for everyone
    // still queued (recorded once; queue/me answers `sold-out` from then on).
    const result: AdmissionTickResult = {
      admitted: admit,
      serving,
      assigned,
      available,
      pendingAdmissions: pending,
      finished: sold >= units,
    };
    await client.query(
      `update waiting_rooms set assigned = $2::int, serving = $3::int,
         serving_updated_at = case when $3::int > serving then now() else serving_updated_at end,
         sold_out_at = case when $4::boolean then coalesce(sold_out_at, now()) else sold_out_at end,
         last_step_key = coalesce($5::bigint, last_step_key),
         last_step_result = case when $5::bigint is null then last_step_result else $6::jsonb end
       where sale_id = $1::uuid`,
      [saleId, assigned, serving, available === 0 && held === 0, stepKey ?? null, JSON.stringify(result)],
    );
    return result;
  });
}

/** Waiting rooms whose admission workflow has not been started (the outbox of worker/admission-relay.ts). */
export async function unstartedAdmissions(
  pool: Pool,
  limit: number,
): Promise<Array<{ sale_id: string; starts_at: Date; admit_per_second: number; admission_seconds: number }>> {
  const { rows } = await pool.query(
    `select w.sale_id, s.starts_at, w.admit_per_second, w.admission_seconds
     from waiting_rooms w join sales s on s.id = w.sale_id
     where w.workflow_started_at is null order by w.created_at limit $1::int`,
    [limit],
  );
  return rows;
}

export async function markAdmissionStarted(pool: Pool, saleId: string): Promise<void> {
  await pool.query(
    `update waiting_rooms set workflow_started_at = now() where sale_id = $1::uuid and workflow_started_at is null`,
    [saleId],
  );
}
