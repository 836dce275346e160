import type { Queryable } from '../pool';

/** A claim this caller holds: the attempt it counted is its token for the writes that follow. */
export interface HeldClaim {
  kind: 'claimed';
  attempt: number;
}

export type NotificationClaim = HeldClaim | { kind: 'sent' } | { kind: 'failed' } | { kind: 'in_flight' };

/** The writes a claimant makes after its claim ($1 reservation, $2 outcome, $3 the claim's attempt) change nothing once a later claim counted another attempt. */
const UNDER_CLAIM = `where reservation_id = $1::uuid and kind = $2::text and state = 'pending' and attempts = $3::int`;

/**
 * Claims the notice of `outcome` for a reservation before it is sent: `claimed` when this caller
 * now owns it (a new row, or a `pending` row whose previous claimant's lease has lapsed), `sent`
 * when it went out already, `failed` when it was given up, `in_flight` when another claimant
 * holds a live lease.
 */
export async function claimNotification(
  db: Queryable,
  reservationId: string,
  outcome: string,
  leaseSeconds: number,
): Promise<NotificationClaim> {
  const claimed = await db.query<{ attempts: number }>(
    `insert into notifications (reservation_id, kind, state, sent_at, lease_until)
     values ($1::uuid, $2::text, 'pending', null, now() + make_interval(secs => $3::int))
     on conflict (subject, kind) do update
       set lease_until = excluded.lease_until, attempts = notifications.attempts + 1
       where notifications.state = 'pending' and notifications.lease_until < now()
     returning attempts`,
    [reservationId, outcome, leaseSeconds],
  );
  if (claimed.rows[0]) return { kind: 'claimed', attempt: claimed.rows[0].attempts };
  const { rows } = await db.query<{ state: string }>(
    `select state from notifications where reservation_id = $1::uuid and kind = $2::text`,
    [reservationId, outcome],
  );
  const state = rows[0]?.state;
  return state === 'sent' || state === 'failed' ? { kind: state } : { kind: 'in_flight' };
}

/** Marks a claimed notice as sent (unless a later claim took it over). */
export async function markNotificationSent(
  db: Queryable,
  reservationId: string,
  outcome: string,
  claim: HeldClaim,
): Promise<void> {
  await db.query(
    `update notifications set state = 'sent', sent_at = now(), lease_until = null, last_error = null
     ${UNDER_CLAIM}`,
    [reservationId, outcome, claim.attempt],
  );
}

/** A send that failed but may pass later: the claim is let go at once, so the retry need not wait out the lease. */
export async function releaseNotificationClaim(
  db: Queryable,
  reservationId: string,
  outcome: string,
  claim: HeldClaim,
  error: string,
): Promise<void> {
  await db.query(
    `update notifications set lease_until = now() - interval '1 millisecond', last_error = $4::text
     ${UNDER_CLAIM}`,
    [reservationId, outcome, claim.attempt, error],
  );
}

/** The notice is given up (refused for good by the mail server, or out of attempts): `failed`, for an operator. */
export async function markNotificationFailed(
  db: Queryable,
  reservationId: string,
  outcome: string,
  claim: HeldClaim,
  error: string,
): Promise<void> {
  await db.query(
    `update notifications set state = 'failed', failed_at = now(), lease_until = null, last_error = $4::text
     ${UNDER_CLAIM}`,
    [reservationId, outcome, claim.attempt, error],
  );
}

export interface NotificationDetails {
  shopperId: string;
  saleName: string;
  unitId: number;
  amountCents: number;
  currency: string;
}

/** Whom the notice goes to, and what its e-mail names: the sale, the unit and its price. */
export async function notificationDetails(db: Queryable, reservationId: string): Promise<NotificationDetails | undefined> {
  const { rows } = await db.query<NotificationDetails>(
    `select r.user_id as "shopperId", s.name as "saleName", r.unit_id as "unitId", s.price_cents as "amountCents", s.currency
     from reservations r join sales s on s.id = r.sale_id where r.id = $1::uuid`,
    [reservationId],
  );
  return rows[0];
}
