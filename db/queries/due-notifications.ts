import type { Queryable } from '../pool';

/*
 * The notification dispatcher's statements (worker/notification-dispatcher.ts). Each is one short
 * autocommit statement; (subject, kind) is unique (migrations/0007), so two dispatchers inserting
 * the same notice at once make one row, and FOR UPDATE SKIP LOCKED plus a lease hands each due
 * row to one dispatcher at a time. Every lease counts an attempt, and that attempt number is the
 * lease's fencing token: each write after the lease (renew, sent, retry, failed, dropped, forget)
 * names it and changes nothing once a later lease has counted another attempt.
 */

export type DispatchedKind = 'hold-reminder' | 'waitlist-offer' | 'sold-out';

/**
 * Inserts a `hold-reminder` for every hold that ends within `leadSeconds` and has not had one.
 * Chosen by the reservation's current `expires_at` (support may have extended it). A hold that
 * lasts `leadSeconds` or less in all gets none: it would be reminded as it starts.
 */
export async function enqueueHoldReminders(db: Queryable, leadSeconds: number, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'notify-enqueue-hold-reminders',
    text: `insert into notifications (reservation_id, sale_id, shopper_id, kind, state, sent_at, attempts, next_attempt_at)
           select r.id, r.sale_id, r.user_id, 'hold-reminder', 'pending', null, 0, now()
           from reservations r
           where r.status = 'held'
             and r.expires_at > now() and r.expires_at <= now() + make_interval(secs => $1::int)
             and r.expires_at - r.created_at > make_interval(secs => $1::int)
             and not exists (select 1 from notifications n where n.reservation_id = r.id and n.kind = 'hold-reminder')
           order by r.expires_at
           limit $2::int
           on conflict (subject, kind) do nothing`,
    values: [leadSeconds, limit],
  });
  return rowCount ?? 0;
}

/** Inserts a `waitlist-offer` for every live hold a release offered to a waitlisted shopper (migrations/0006). */
export async function enqueueWaitlistOffers(db: Queryable, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'notify-enqueue-waitlist-offers',
    text: `insert into notifications (reservation_id, sale_id, shopper_id, kind, state, sent_at, attempts, next_attempt_at)
           select r.id, r.sale_id, r.user_id, 'waitlist-offer', 'pending', null, 0, now()
           from reservations r
           where r.origin = 'waitlist' and r.status = 'held' and r.expires_at > now()
             and not exists (select 1 from notifications n where n.reservation_id = r.id and n.kind = 'waitlist-offer')
           order by r.created_at
           limit $1::int
           on conflict (subject, kind) do nothing`,
    values: [limit],
  });
  return rowCount ?? 0;
}

/**
 * Inserts a `sold-out` notice for every shopper still queued in a waiting room (the `queue_tickets`
 * of the waiting-room migration) of a sale that can no longer sell them anything: no unit is
 * available or held (a held unit may come back). A shopper who claimed in the sale is not queued.
 * Only sales that started within `recentHours` are looked at, so finished sales' queues are not
 * scanned every pass; an erased shopper's ticket (its pseudonym, migrations/0017) gets none.
 * Callers check `hasWaitingRooms` first.
 */
export async function enqueueSoldOutNotices(db: Queryable, recentHours: number, limit: number): Promise<number> {
  const { rowCount } = await db.query({
    name: 'notify-enqueue-sold-out',
    text: `insert into notifications (sale_id, shopper_id, kind, state, sent_at, attempts, next_attempt_at)
           select t.sale_id, t.shopper_id, 'sold-out', 'pending', null, 0, now()
           from waiting_rooms w
           join sales s on s.id = w.sale_id
           join queue_tickets t on t.sale_id = w.sale_id
           where s.starts_at <= now() and s.starts_at > now() - make_interval(hours => $1::int)
             and not exists (select 1 from units u where u.sale_id = w.sale_id and u.status in ('available', 'held'))
             and not exists (select 1 from reservations r where r.sale_id = t.sale_id and r.user_id = t.shopper_id)
             and t.shopper_id not like 'erased:%'
             and not exists (select 1 from notifications n
                             where n.subject = 'sale:' || t.sale_id::text || ':shopper:' || t.shopper_id and n.kind = 'sold-out')
           limit $2::int
           on conflict (subject, kind) do nothing`,
    values: [recentHours, limit],
  });
  return rowCount ?? 0;
}

/** Whether the waiting room's tables exist (the sold-out kind and the queue metrics need them). */
export async function hasWaitingRooms(db: Queryable): Promise<boolean> {
  const { rows } = await db.query<{ present: boolean }>(
    `select to_regclass('waiting_rooms') is not null and to_regclass('queue_tickets') is not null as present`,
  );
  return rows[0]?.present === true;
}

export interface DueNotification {
  id: string;
  kind: DispatchedKind;
  subject: string;
  reservationId: string | null;
  saleId: string;
  shopperId: string;
  /** This attempt's number, from 1; also this lease's token (`DispatchLease`). */
  attempts: number;
  saleName: string;
  unitId: number | null;
  amountCents: number;
  currency: string;
  /** The reservation's status and hold end now (null for a sale's notice). */
  reservationStatus: string | null;
  expiresAt: Date | null;
  /** The database's clock at lease time, to judge `expiresAt` by. */
  now: Date;
}

/** Whose lease a write is made under: the notice and the attempt its lease counted. */
export type DispatchLease = Pick<DueNotification, 'id' | 'attempts'>;

/** The condition of every write under a lease: $1 the notice, $2 the lease's attempt. */
const UNDER_LEASE = `where id = $1::bigint and attempts = $2::int and state = 'pending'`;

/**
 * Leases up to `limit` due notices for `leaseSeconds` (a dispatcher that dies mid-send loses them
 * to another after that) and counts the attempt; returns each with what its e-mail names.
 */
export async function leaseDueNotifications(db: Queryable, limit: number, leaseSeconds: number): Promise<DueNotification[]> {
  const { rows } = await db.query<DueNotification>({
    name: 'notify-lease-due',
    text: `with leased as (
             update notifications n
             set lease_until = now() + make_interval(secs => $2::int), attempts = n.attempts + 1
             where n.id in (
               select id from notifications
               where state = 'pending' and next_attempt_at is not null and next_attempt_at <= now()
                 and (lease_until is null or lease_until < now())
               order by next_attempt_at
               limit $1::int
               for update skip locked
             )
             returning n.id, n.kind, n.subject, n.reservation_id, n.sale_id, n.shopper_id, n.attempts
           )
           select l.id::text as id, l.kind, l.subject, l.reservation_id as "reservationId", l.sale_id as "saleId",
                  l.shopper_id as "shopperId", l.attempts, s.name as "saleName", r.unit_id as "unitId",
                  s.price_cents as "amountCents", s.currency, r.status as "reservationStatus",
                  r.expires_at as "expiresAt", now() as now
           from leased l
           join sales s on s.id = l.sale_id
           left join reservations r on r.id = l.reservation_id`,
    values: [limit, leaseSeconds],
  });
  return rows;
}

/** Extends a lease this dispatcher still holds by `leaseSeconds` from now; false when it is lost. */
export async function renewDispatchLease(db: Queryable, lease: DispatchLease, leaseSeconds: number): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'notify-renew-lease',
    text: `update notifications set lease_until = now() + make_interval(secs => $3::int)
           ${UNDER_LEASE}`,
    values: [lease.id, lease.attempts, leaseSeconds],
  });
  return rowCount === 1;
}

/** Records the send; false when the lease was lost meanwhile (another dispatcher owns the notice now). */
export async function markDispatchedSent(db: Queryable, lease: DispatchLease): Promise<boolean> {
  const { rowCount } = await db.query({
    name: 'notify-mark-sent',
    text: `update notifications set state = 'sent', sent_at = now(), lease_until = null, last_error = null
           ${UNDER_LEASE}`,
    values: [lease.id, lease.attempts],
  });
  return rowCount === 1;
}

/** The notice is no longer true (the hold ended or was paid before it went out): never sent. */
export async function markDispatchedDropped(db: Queryable, lease: DispatchLease, reason: string): Promise<void> {
  await db.query({
    name: 'notify-mark-dropped',
    text: `update notifications set state = 'dropped', lease_until = null, last_error = $3::text
           ${UNDER_LEASE}`,
    values: [lease.id, lease.attempts, reason],
  });
}

/** A failed attempt: tried again `delaySeconds` from now. */
export async function scheduleDispatchRetry(
  db: Queryable,
  lease: DispatchLease,
  delaySeconds: number,
  error: string,
): Promise<void> {
  await db.query({
    name: 'notify-schedule-retry',
    text: `update notifications
           set next_attempt_at = now() + make_interval(secs => $3::double precision), lease_until = null, last_error = $4::text
           ${UNDER_LEASE}`,
    values: [lease.id, lease.attempts, delaySeconds, error],
  });
}

/** The last attempt failed: the notice is given up, visibly. */
export async function markDispatchFailed(db: Queryable, lease: DispatchLease, error: string): Promise<void> {
  await db.query({
    name: 'notify-mark-failed',
    text: `update notifications set state = 'failed', failed_at = now(), lease_until = null, last_error = $3::text
           ${UNDER_LEASE}`,
    values: [lease.id, lease.attempts, error],
  });
}

/** An unsent notice that is not due after all (an extended hold): removed, so it can become due again. */
export async function forgetDispatched(db: Queryable, lease: DispatchLease): Promise<void> {
  await db.query({
    name: 'notify-forget',
    text: `delete from notifications ${UNDER_LEASE}`,
    values: [lease.id, lease.attempts],
  });
}
