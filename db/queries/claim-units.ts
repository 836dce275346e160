import type { Queryable } from '../pool';
import { ADMISSION_LIVE_SQL } from './admission-window';
import { RESERVATION_COLUMNS, type ReservationRow } from '../rows';
import type { ClaimResult } from './claim-unit';

export interface BatchClaimRequest {
  reservationId: string;
  userId: string;
  idempotencyKey: string | null;
  /** The admitted queue ticket this claim spends (waiting-room sales); null elsewhere. */
  queueTicketId?: string | null;
}

export interface BatchClaim {
  saleId: string;
  holdSeconds: number;
  stripes: number;
  /** Where this batch starts looking; random per batch so concurrent batches spread over the stripes. */
  startStripe: number;
  /** Distinct shoppers: the one-live-reservation index would fail the whole statement otherwise. */
  requests: BatchClaimRequest[];
}

/*
 * The claim of db/queries/claim-unit.ts for several shoppers in one autocommit statement
 * (api/services/claim-batcher.ts gathers them). Per request, in order: the shopper's live
 * reservation if there is one; otherwise the k-th shopper still wanting a unit gets the k-th unit
 * picked with SKIP LOCKED in the stripe range; a request whose queue ticket a reservation already
 * names (the admission is spent, migrations/0013) or whose admission is not live (locked FOR
 * SHARE as in claim-unit.ts) wants none. One WAL flush and one round trip for them all.
 * A unique violation (a shopper racing themselves through another process) fails the statement
 * and rolls back every unit with it; the caller then claims one by one (those the statement
 * over the first range committed excepted: PartlyClaimedError names them).
 */
const CLAIM_BATCH_IN_STRIPE_RANGE = `
with req as (
  select r.reservation_id, r.user_id, r.idempotency_key, r.queue_ticket_id, r.n
  from unnest($4::uuid[], $5::text[], $6::text[], $8::uuid[])
    with ordinality as r(reservation_id, user_id, idempotency_key, queue_ticket_id, n)
), existing as (
  select req.n, (
    select l.id from reservations l
    where l.sale_id = $1::uuid and l.user_id = req.user_id and l.status in ('held', 'payment_pending', 'paid')
    limit 1
  ) as id,
  (select s.id from reservations s where s.queue_ticket_id = req.queue_ticket_id) as spent_id
  from req
), admission as (
  select t.id from queue_tickets t join waiting_rooms w on w.sale_id = t.sale_id join req on req.queue_ticket_id = t.id
  where t.sale_id = $1::uuid and t.shopper_id = req.user_id and ${ADMISSION_LIVE_SQL}
  for share of t
), wanting as (
  select req.*, row_number() over (order by req.n) as k
  from req join existing e on e.n = req.n
  where e.id is null and e.spent_id is null
    and (req.queue_ticket_id is null or req.queue_ticket_id in (select id from admission))
), picked as (
  select p.id, row_number() over (order by p.stripe, p.id) as k
  from (
    select u.id, u.stripe
    from units u
    where u.sale_id = $1::uuid
      and u.status = 'available'
      and u.stripe between $2::int and $3::int
    order by u.stripe, u.id
    limit (select count(*) from wanting)
    for update skip locked
  ) p
), held as (
  update units u
  set status = 'held', reservation_id = w.reservation_id
  from picked p join wanting w on w.k = p.k
  where u.sale_id = $1::uuid and u.id = p.id
  returning u.id, u.reservation_id
), inserted as (
  insert into reservations (id, sale_id, unit_id, user_id, status, idempotency_key, expires_at, queue_ticket_id)
  select held.reservation_id, $1::uuid, held.id, w.user_id, 'held', w.idempotency_key,
         now() + make_interval(secs => $7::int), w.queue_ticket_id
  from held join wanting w on w.reservation_id = held.reservation_id
  returning ${RESERVATION_COLUMNS}
)
select req.n, i.*, e.id as existing_id, e.spent_id,
       req.queue_ticket_id is not null and req.queue_ticket_id not in (select id from admission) as admission_over
from req
join existing e on e.n = req.n
left join inserted i on i.id = req.reservation_id
order by req.n`;

/** A later statement of a batch failed after an earlier one committed the claims in `settled`. */
export class PartlyClaimedError extends Error {
  constructor(
    readonly settled: ReadonlyMap<number, ClaimResult>,
    readonly failure: unknown,
  ) {
    super(`a batch's second statement failed after ${settled.size} claims committed`);
    this.name = 'PartlyClaimedError';
  }
}

type BatchRow = { [K in keyof ReservationRow]: ReservationRow[K] | null } & {
  n: string;
  existing_id: string | null;
  spent_id: string | null;
  admission_over: boolean;
};

/**
 * One result per request, in order. A claim scans from the batch's start stripe upwards, then
 * the requests left without a unit try the stripes below it: at most two statements.
 */
export async function claimUnits(db: Queryable, batch: BatchClaim): Promise<ClaimResult[]> {
  const results: ClaimResult[] = batch.requests.map(() => ({ kind: 'no-unit' }));
  const ranges: Array<[number, number]> = [[batch.startStripe, batch.stripes - 1]];
  if (batch.startStripe > 0) ranges.push([0, batch.startStripe - 1]);
  let open = batch.requests.map((_, index) => index);
  for (const [from, to] of ranges) {
    if (open.length === 0) break;
    const asked = open.map((index) => batch.requests[index]!);
    const query = db.query<BatchRow>({
      name: 'claim-units',
      text: CLAIM_BATCH_IN_STRIPE_RANGE,
      values: [
        batch.saleId,
        from,
        to,
        asked.map((r) => r.reservationId),
        asked.map((r) => r.userId),
        asked.map((r) => r.idempotencyKey),
        batch.holdSeconds,
        asked.map((r) => r.queueTicketId ?? null),
      ],
    });
    let rows: BatchRow[];
    try {
      ({ rows } = await query);
    } catch (error) {
      if (open.length === batch.requests.length) throw error;
      const settled = new Map<number, ClaimResult>();
      results.forEach((result, index) => {
        if (!open.includes(index)) settled.set(index, result);
      });
      throw new PartlyClaimedError(settled, error);
    }
    const stillOpen: number[] = [];
    for (const row of rows) {
      const index = open[Number(row.n) - 1]!;
      const { n: _n, existing_id, spent_id, admission_over, ...reservation } = row;
      if (existing_id) results[index] = { kind: 'already-reserved', reservationId: existing_id };
      else if (spent_id) results[index] = { kind: 'admission-spent', reservationId: spent_id };
      else if (admission_over) results[index] = { kind: 'admission-over' };
      else if (reservation.id) results[index] = { kind: 'claimed', reservation: reservation as ReservationRow };
      else stillOpen.push(index);
    }
    open = stillOpen;
  }
  return results;
}
