import type { Queryable } from '../pool';
import { ADMISSION_LIVE_SQL } from './admission-window';
import { RESERVATION_COLUMNS, type ReservationRow } from '../rows';

export interface ClaimRequest {
  reservationId: string;
  saleId: string;
  userId: string;
  idempotencyKey: string | null;
  holdSeconds: number;
  stripes: number;
  /** Where this claim starts looking; random per claim so claimers spread over the stripes. */
  startStripe: number;
  /** The admitted queue ticket this claim spends (waiting-room sales); null elsewhere. */
  queueTicketId?: string | null;
}

export type ClaimResult =
  | { kind: 'claimed'; reservation: ReservationRow }
  | { kind: 'already-reserved'; reservationId: string }
  /** The queue ticket was spent by an earlier claim, `reservationId` (migrations/0013). */
  | { kind: 'admission-spent'; reservationId: string }
  /** The queue ticket's admission is not live (run out, never confirmed in time, given back; migrations/0019). */
  | { kind: 'admission-over' }
  | { kind: 'no-unit' };

/*
 * One autocommit statement per attempt: look for this shopper's live reservation, and only if
 * there is none pick an available unit with SKIP LOCKED, mark it held and insert the
 * reservation. Nothing is held across a network round trip; a unique violation (the shopper
 * racing themselves) rolls the unit back with the statement. It always returns one row: the new
 * reservation's columns, or nulls and the id of the reservation the shopper already has.
 * On a waiting-room sale the claim spends its queue ticket: a ticket some reservation already
 * names picks no unit (`spent_id`), and the unique index reservations_one_per_admission refuses
 * the insert of a claim racing the first with the same ticket. The same statement checks that the
 * admission is live (db/queries/admission-window.ts) and locks the ticket row FOR SHARE while it
 * does: a give-back (`leaveQueue` in db/queries/queue-tickets.ts, which locks it FOR UPDATE)
 * either committed first, and the recheck of the locked row refuses the claim (`admission_over`),
 * or waits for this claim to commit and finds the admission spent.
 *
 * Why stripes: with `order by id limit 1 for update skip locked` every claimer starts at the
 * same head of the index and steps over the rows the others have locked and over entries left
 * dead by earlier claims; starting each claim in a random stripe keeps claimers apart. A claim
 * scans from its start stripe upwards, then wraps to the stripes below it, so it finds a unit as
 * long as any is unlocked: at most two statements, the second only once stripes run dry.
 *
 * This is the statement of a claim that arrives alone; claims that arrive while others are in
 * flight go out together in db/queries/claim-units.ts (api/services/claim-batcher.ts). Measured
 * by `npm run bench -- --only claims --claimers 64` (full mode: 30 s per case on 2,000,000
 * units, 2 shared cores, load average 4.4 at the start; docs/PERFORMANCE.md): the batched path
 * made 2,996 claims/s with 64 claimers against 208 for the seed design's stock-row transaction
 * (14.4×) and 900 for its SKIP LOCKED transaction (3.33×), its last fifth at 0.92 of its first.
 */
const CLAIM_IN_STRIPE_RANGE = `
with existing as (
  select r.id from reservations r
  where r.sale_id = $1::uuid and r.user_id = $4::text and r.status in ('held', 'payment_pending', 'paid')
  limit 1
), spent as (
  select r.id from reservations r where r.queue_ticket_id = $8::uuid
), admission as (
  select t.id from queue_tickets t join waiting_rooms w on w.sale_id = t.sale_id
  where t.id = $8::uuid and t.sale_id = $1::uuid and t.shopper_id = $4::text and ${ADMISSION_LIVE_SQL}
  for share of t
), picked as (
  select u.id
  from units u
  where u.sale_id = $1::uuid
    and u.status = 'available'
    and u.stripe between $2::int and $3::int
    and not exists (select 1 from existing)
    and not exists (select 1 from spent)
    and ($8::uuid is null or exists (select 1 from admission))
  order by u.stripe, u.id
  limit 1
  for update skip locked
), held as (
  update units u
  set status = 'held', reservation_id = $5::uuid
  from picked
  where u.sale_id = $1::uuid and u.id = picked.id
  returning u.id
), inserted as (
  insert into reservations (id, sale_id, unit_id, user_id, status, idempotency_key, expires_at, queue_ticket_id)
  select $5::uuid, $1::uuid, held.id, $4::text, 'held', $6::text, now() + make_interval(secs => $7::int), $8::uuid
  from held
  returning ${RESERVATION_COLUMNS}
)
select inserted.*, (select id from existing) as existing_id, (select id from spent) as spent_id,
       $8::uuid is not null and not exists (select 1 from admission) as admission_over
from (select 1) as one left join inserted on true`;

type ClaimRow = { [K in keyof ReservationRow]: ReservationRow[K] | null } & {
  existing_id: string | null;
  spent_id: string | null;
  admission_over: boolean;
};

export async function claimUnit(db: Queryable, claim: ClaimRequest): Promise<ClaimResult> {
  const ranges: Array<[number, number]> = [[claim.startStripe, claim.stripes - 1]];
  if (claim.startStripe > 0) ranges.push([0, claim.startStripe - 1]);
  for (const [from, to] of ranges) {
    const { rows } = await db.query<ClaimRow>({
      name: 'claim-unit',
      text: CLAIM_IN_STRIPE_RANGE,
      values: [
        claim.saleId,
        from,
        to,
        claim.userId,
        claim.reservationId,
        claim.idempotencyKey,
        claim.holdSeconds,
        claim.queueTicketId ?? null,
      ],
    });
    const row = rows[0]!;
    if (row.existing_id) return { kind: 'already-reserved', reservationId: row.existing_id };
    if (row.spent_id) return { kind: 'admission-spent', reservationId: row.spent_id };
    if (row.admission_over) return { kind: 'admission-over' };
    if (row.id) return { kind: 'claimed', reservation: row as ReservationRow };
  }
  return { kind: 'no-unit' };
}
