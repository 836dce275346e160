import type { Queryable } from '../pool';

export type NotificationClaim = 'claimed' | 'sent' | 'in_flight';

/**
 * Claims the notice of `outcome` for a reservation before it is sent: `claimed` when this caller
 * now owns it (a new row, or a `pending` row whose previous claimant's lease has lapsed), `sent`
 * when it went out already, `in_flight` when another claimant holds a live lease.
 */
export async function claimNotification(
  db: Queryable,
  reservationId: string,
  outcome: string,
  leaseSeconds: number,
): Promise<NotificationClaim> {
  const claimed = await db.query(
    `insert into notifications (reservation_id, kind, state, sent_at, lease_until)
     values ($1::uuid, $2::text, 'pending', null, now() + make_interval(secs => $3::int))
     on conflict (subject, kind) do update
       set lease_until = excluded.lease_until, attempts = notifications.attempts + 1
       where notifications.state = 'pending' and notifications.lease_until < now()`,
    [reservationId, outcome, leaseSeconds],
  );
  if (claimed.rowCount === 1) return 'claimed';
  const { rows } = await db.query<{ state: string }>(
    `select state from notifications where reservation_id = $1::uuid and kind = $2::text`,
    [reservationId, outcome],
  );
  return rows[0]?.state === 'sent' ? 'sent' : 'in_flight';
}

/** Marks a claimed notice as sent. */
export async function markNotificationSent(db: Queryable, reservationId: string, outcome: string): Promise<void> {
  await db.query(
    `update notifications set state = 'sent', sent_at = now(), lease_until = null
     where reservation_id = $1::uuid and kind = $2::text and state = 'pending'`,
    [reservationId, outcome],
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
