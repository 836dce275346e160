import { withTransaction, type Queryable } from '../pool';
import type { Pool } from 'pg';
import { ADMISSION_END_SQL, ADMISSION_FULL_END_SQL, ADMISSION_LIVE_SQL } from './admission-window';

export interface QueueTicketRow {
  id: string;
  sale_id: string;
  shopper_id: string;
  challenge_id: string;
  joined_at: Date;
  position: number | null;
  admitted_at: Date | null;
  /** When the shopper left the room (`DELETE …/queue/me`, migrations/0019). */
  left_at: Date | null;
}

/** A ticket with what the shopper's view needs from its waiting room, read in the same statement. */
export interface QueuePlaceRow extends QueueTicketRow {
  serving: number;
  admit_per_second: number;
  admission_seconds: number;
  /** The admission has not run out (judged by the database clock, as the admission step judges it). */
  admission_live: boolean;
  /** When the admission ends (db/queries/admission-window.ts): the confirm window's end until the shopper is told. */
  admitted_until: Date | null;
  /** Live but still in its confirm window: the shopper has not been told yet (`confirmAdmission`). */
  admission_unseen: boolean;
  /** The room's positions given out, whether it is sold out (migration 0012), and the sale's start. */
  assigned: number;
  sold_out: boolean;
  starts_at: Date;
}

const TICKET_COLUMNS = 't.id, t.sale_id, t.shopper_id, t.challenge_id, t.joined_at, t.position, t.admitted_at, t.left_at';
const PLACE_COLUMNS = `${TICKET_COLUMNS}, w.serving, w.admit_per_second, w.admission_seconds,
  w.assigned, w.sold_out_at is not null as sold_out, s.starts_at,
  ${ADMISSION_LIVE_SQL} as admission_live,
  ${ADMISSION_END_SQL} as admitted_until,
  (${ADMISSION_LIVE_SQL} and ${ADMISSION_END_SQL} < ${ADMISSION_FULL_END_SQL}) as admission_unseen`;

export interface NewTicket {
  id: string;
  saleId: string;
  shopperId: string;
  challengeId: string;
}

/**
 * Records a ticket bought with `challengeId`. Null when the shopper already has a ticket for the
 * sale or the challenge was spent already (both unique indexes): the insert is the replay guard.
 */
export async function insertTicket(db: Queryable, ticket: NewTicket): Promise<QueueTicketRow | null> {
  const { rows } = await db.query<QueueTicketRow>({
    name: 'insert-queue-ticket',
    text: `insert into queue_tickets as t (id, sale_id, shopper_id, challenge_id)
           values ($1::uuid, $2::uuid, $3::text, $4::text)
           on conflict do nothing
           returning ${TICKET_COLUMNS}`,
    values: [ticket.id, ticket.saleId, ticket.shopperId, ticket.challengeId],
  });
  return rows[0] ?? null;
}

/**
 * `insertTicket` for many tickets in one statement (arrivals numbered in the order given). Only
 * the rows inserted come back; a ticket missing from the answer met one of the unique indexes,
 * whether against an older row or an earlier one of the same statement.
 */
export async function insertTickets(db: Queryable, tickets: readonly NewTicket[]): Promise<QueueTicketRow[]> {
  const { rows } = await db.query<QueueTicketRow>({
    name: 'insert-queue-tickets',
    text: `insert into queue_tickets as t (id, sale_id, shopper_id, challenge_id)
           select n.id, n.sale_id, n.shopper_id, n.challenge_id
           from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) with ordinality as n(id, sale_id, shopper_id, challenge_id, k)
           order by n.k
           on conflict do nothing
           returning ${TICKET_COLUMNS}`,
    values: [
      tickets.map((t) => t.id),
      tickets.map((t) => t.saleId),
      tickets.map((t) => t.shopperId),
      tickets.map((t) => t.challengeId),
    ],
  });
  return rows;
}

/** The shopper's ticket for a sale and their place in its queue: one lookup by unique index. */
export async function findPlaceByShopper(db: Queryable, saleId: string, shopperId: string): Promise<QueuePlaceRow | undefined> {
  const { rows } = await db.query<QueuePlaceRow>({
    name: 'find-queue-place-by-shopper',
    text: `select ${PLACE_COLUMNS}
           from queue_tickets t join waiting_rooms w on w.sale_id = t.sale_id join sales s on s.id = t.sale_id
           where t.sale_id = $1::uuid and t.shopper_id = $2::text`,
    values: [saleId, shopperId],
  });
  return rows[0];
}

export async function findPlaceByTicket(db: Queryable, ticketId: string): Promise<QueuePlaceRow | undefined> {
  const { rows } = await db.query<QueuePlaceRow>({
    name: 'find-queue-place-by-ticket',
    text: `select ${PLACE_COLUMNS}
           from queue_tickets t join waiting_rooms w on w.sale_id = t.sale_id join sales s on s.id = t.sale_id
           where t.id = $1::uuid`,
    values: [ticketId],
  });
  return rows[0];
}

/**
 * The first sighting: the shopper has been told "admitted", so a live admission still in its
 * confirm window runs the whole `admission_seconds` from its start. One update per admitted
 * shopper (a later call changes nothing). Answers the admission's end, or undefined when nothing
 * was extended (already extended, over, or given back).
 */
export async function confirmAdmission(db: Queryable, ticketId: string): Promise<Date | undefined> {
  const { rows } = await db.query<{ admitted_until: Date }>({
    name: 'confirm-admission',
    text: `update queue_tickets t set admitted_until = ${ADMISSION_FULL_END_SQL}
           from waiting_rooms w
           where t.id = $1::uuid and w.sale_id = t.sale_id and ${ADMISSION_LIVE_SQL}
             and t.admitted_until < ${ADMISSION_FULL_END_SQL}
           returning t.admitted_until`,
    values: [ticketId],
  });
  return rows[0]?.admitted_until;
}

/**
 * The shopper leaves the room (`DELETE …/queue/me`): the ticket is marked left, so it is not
 * admitted any more (its turn comes already over, db/queries/admission.ts) and an admission not
 * spent by a claim ends now, giving its place back to the next shopper. Idempotent: a ticket that
 * left already is not changed. The ticket row is locked first, so a claim of this ticket
 * (db/queries/claim-unit.ts, which locks it too) either committed before, and the admission stays
 * spent, or runs after, and sees the ticket left. Undefined when the shopper has no ticket.
 */
export async function leaveQueue(pool: Pool, saleId: string, shopperId: string): Promise<QueuePlaceRow | undefined> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ id: string }>(
      `select id from queue_tickets where sale_id = $1::uuid and shopper_id = $2::text for update`,
      [saleId, shopperId],
    );
    const ticket = rows[0];
    if (!ticket) return undefined;
    // A new statement, so its snapshot sees a claim that committed while this waited for the lock.
    await client.query(
      `update queue_tickets t
       set left_at = clock_timestamp(),
           admitted_until = case
             when t.admitted_at is null or exists (select 1 from reservations r where r.queue_ticket_id = t.id) then t.admitted_until
             else least(${ADMISSION_END_SQL}, clock_timestamp()) end
       from waiting_rooms w
       where t.id = $1::uuid and w.sale_id = t.sale_id and t.left_at is null`,
      [ticket.id],
    );
    return findPlaceByTicket(client, ticket.id);
  });
}

/** The reservation that spent this ticket's admission (migrations/0013), if one did. */
export async function findClaimOfTicket(db: Queryable, ticketId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ id: string }>({
    name: 'find-claim-of-queue-ticket',
    text: `select id from reservations where queue_ticket_id = $1::uuid`,
    values: [ticketId],
  });
  return rows[0]?.id;
}

export interface QueueAudit {
  shuffleSeed: string | null;
  shuffledAt: Date | null;
  /** Pre-queue tickets, in the order the shuffle put them (position 1 first). */
  prequeue: Array<{ id: string; position: number }>;
  serving: number;
  assigned: number;
  tickets: number;
}

export async function queueAudit(db: Queryable, saleId: string): Promise<QueueAudit | undefined> {
  const { rows } = await db.query<{
    shuffle_seed: string | null;
    shuffled_at: Date | null;
    prequeue_size: number | null;
    serving: number;
    assigned: number;
    tickets: number;
  }>(
    `select shuffle_seed, shuffled_at, prequeue_size, serving, assigned,
            (select count(*)::int from queue_tickets where sale_id = $1::uuid) as tickets
     from waiting_rooms where sale_id = $1::uuid`,
    [saleId],
  );
  const room = rows[0];
  if (!room) return undefined;
  const { rows: prequeue } = await db.query<{ id: string; position: number }>(
    `select id, position from queue_tickets
     where sale_id = $1::uuid and position between 1 and $2::int order by position`,
    [saleId, room.prequeue_size ?? 0],
  );
  return {
    shuffleSeed: room.shuffle_seed,
    shuffledAt: room.shuffled_at,
    prequeue,
    serving: room.serving,
    assigned: room.assigned,
    tickets: room.tickets,
  };
}

/**
 * Slack for claims made before migration 0019, when the claim statement ran a moment after the
 * gate had looked at the admission; since then the claim statement itself decides (db/queries/claim-unit.ts).
 */
const GATE_SLACK_SECONDS = 5;

/**
 * What the invariant checker reports about a sale's waiting room (invariants/check-sale-invariants.ts):
 * reservations made without a running admission (outside its recorded end: an admission never
 * confirmed ends with its confirm window), claims made once the shopper had left, admissions
 * running past the whole `admission_seconds`, admissions spent by more than one claim,
 * admissions beyond the counter, and positions that are not exactly 1..assigned. Undefined for a sale without a waiting room;
 * none once the retention purge took its tickets (migrations/0018).
 */
export async function queueViolations(db: Queryable, saleId: string): Promise<string[] | undefined> {
  const { rows: rooms } = await db.query<{
    serving: number;
    assigned: number;
    positioned: number;
    max_position: number | null;
    admitted: number;
    admitted_beyond: number;
    purged: boolean;
  }>(
    `select w.serving, w.assigned, w.tickets_purged_at is not null as purged,
            count(t.position)::int as positioned, max(t.position) as max_position,
            count(t.admitted_at)::int as admitted,
            count(*) filter (where t.admitted_at is not null and t.position > w.serving)::int as admitted_beyond
     from waiting_rooms w left join queue_tickets t on t.sale_id = w.sale_id
     where w.sale_id = $1::uuid group by w.sale_id, w.serving, w.assigned, w.tickets_purged_at`,
    [saleId],
  );
  const room = rooms[0];
  if (!room) return undefined;
  // The retention purge has deleted (or is deleting) the room's tickets: nothing left to check against.
  if (room.purged) return [];
  const problems: string[] = [];
  if (room.serving > room.assigned) problems.push(`serving ${room.serving} > assigned ${room.assigned}`);
  if (room.positioned !== room.assigned || (room.max_position ?? 0) !== room.assigned)
    problems.push(`${room.positioned} positions given out, highest ${room.max_position ?? 0}, but assigned is ${room.assigned}`);
  if (room.admitted_beyond > 0) problems.push(`${room.admitted_beyond} tickets admitted beyond serving ${room.serving}`);
  if (room.admitted !== room.serving) problems.push(`${room.admitted} tickets admitted but serving is ${room.serving}`);
  const { rows: unadmitted } = await db.query<{ id: string; user_id: string }>(
    `select r.id, r.user_id from reservations r join waiting_rooms w on w.sale_id = r.sale_id
     where r.sale_id = $1::uuid and not exists (
       select 1 from queue_tickets t
       where t.sale_id = r.sale_id and t.shopper_id = r.user_id and t.admitted_at is not null
         and t.admitted_at <= r.created_at
         and r.created_at <= ${ADMISSION_END_SQL} + make_interval(secs => $2::int))`,
    [saleId, GATE_SLACK_SECONDS],
  );
  for (const r of unadmitted) problems.push(`reservation ${r.id} of ${r.user_id} was made without a running admission`);
  // The claim and the give-back lock the ticket (leaveQueue): a claim lands before the shopper left or not at all.
  const { rows: afterLeaving } = await db.query<{ id: string; user_id: string }>(
    `select r.id, r.user_id from reservations r join queue_tickets t on t.id = r.queue_ticket_id
     where r.sale_id = $1::uuid and r.origin = 'claim' and t.left_at is not null and r.created_at >= t.left_at`,
    [saleId],
  );
  for (const r of afterLeaving) problems.push(`reservation ${r.id} of ${r.user_id} was claimed after its shopper left the room`);
  const { rows: overlong } = await db.query<{ id: string }>(
    `select t.id from queue_tickets t join waiting_rooms w on w.sale_id = t.sale_id
     where t.sale_id = $1::uuid and t.admitted_until > ${ADMISSION_FULL_END_SQL}`,
    [saleId],
  );
  for (const t of overlong) problems.push(`the admission of ticket ${t.id} runs past admission_seconds`);
  // A shopper has one ticket per sale, so one admission, spent by one claim (waitlist offers are not claims).
  const { rows: respent } = await db.query<{ user_id: string; claims: number }>(
    `select user_id, count(*)::int as claims from reservations
     where sale_id = $1::uuid and origin = 'claim' group by user_id having count(*) > 1`,
    [saleId],
  );
  for (const r of respent) problems.push(`the admission of ${r.user_id} was spent by ${r.claims} claims`);
  return problems;
}
