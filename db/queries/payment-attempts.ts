import type { Queryable } from '../pool';

/** The gateway this reservation's charge is bound to, binding it to `preferred` on the first call. */
export async function bindGateway(db: Queryable, reservationId: string, preferred: string): Promise<string> {
  const { rows } = await db.query<{ gateway: string }>(
    `with inserted as (
       insert into payment_attempts (reservation_id, gateway) values ($1::uuid, $2::text)
       on conflict (reservation_id) do nothing
       returning gateway
     )
     select gateway from inserted
     union all
     select gateway from payment_attempts where reservation_id = $1::uuid and not exists (select 1 from inserted)`,
    [reservationId, preferred],
  );
  return rows[0]!.gateway;
}

/** Counted before a request is sent, so a crash mid-request still counts as possibly delivered. */
export async function countAttempt(db: Queryable, reservationId: string): Promise<void> {
  await db.query(`update payment_attempts set attempts = attempts + 1, updated_at = now() where reservation_id = $1::uuid`, [
    reservationId,
  ]);
}

/** The gateway refused the connection: this request certainly did not reach it. */
export async function countRefused(db: Queryable, reservationId: string): Promise<void> {
  await db.query(`update payment_attempts set refused = refused + 1, updated_at = now() where reservation_id = $1::uuid`, [
    reservationId,
  ]);
}

/**
 * Moves the charge from `from` to `to`, resetting the counts, and returns the gateway now bound.
 * With `onlyIfNoneReached` the move happens only while every request to `from` was refused at
 * connect; without it the caller has made sure otherwise (`from` voided the charge key).
 */
async function moveCharge(
  db: Queryable,
  reservationId: string,
  from: string,
  to: string,
  onlyIfNoneReached: boolean,
): Promise<string> {
  const { rows } = await db.query<{ gateway: string }>(
    `with moved as (
       update payment_attempts set gateway = $3::text, attempts = 0, refused = 0, updated_at = now()
       where reservation_id = $1::uuid and gateway = $2::text and (not $4::boolean or attempts = refused)
       returning gateway
     )
     select gateway from moved
     union all
     select gateway from payment_attempts where reservation_id = $1::uuid and not exists (select 1 from moved)`,
    [reservationId, from, to, onlyIfNoneReached],
  );
  return rows[0]!.gateway;
}

/** Moves the charge from `from` to `to` only if no request can have reached `from`. Returns the gateway now bound. */
export function failOver(db: Queryable, reservationId: string, from: string, to: string): Promise<string> {
  return moveCharge(db, reservationId, from, to, true);
}

/**
 * Moves the charge from `from` to `to` after `from` voided the charge key (so nothing was and
 * nothing will be charged there). Returns the gateway now bound.
 */
export function moveVoidedCharge(db: Queryable, reservationId: string, from: string, to: string): Promise<string> {
  return moveCharge(db, reservationId, from, to, false);
}

/** Requests sent to the bound gateway that may have reached it (sent, not refused at connect). */
export async function reachedAttempts(db: Queryable, reservationId: string): Promise<number> {
  const { rows } = await db.query<{ reached: number }>(
    `select attempts - refused as reached from payment_attempts where reservation_id = $1::uuid`,
    [reservationId],
  );
  return rows[0]?.reached ?? 0;
}

export async function boundGateway(db: Queryable, reservationId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ gateway: string }>(`select gateway from payment_attempts where reservation_id = $1::uuid`, [
    reservationId,
  ]);
  return rows[0]?.gateway;
}
