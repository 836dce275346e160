import type { Queryable } from '../pool';

export interface HoldExtension {
  reservationId: string;
  /** The extension's number within its reservation (1, 2, ...), as the workflow counts them. */
  seq: number;
  seconds: number;
  by: string;
  reason?: string;
  expiresAt: Date;
}

/*
 * Moves a held reservation's `expires_at` to the extended deadline and records the extension,
 * in one statement. Idempotent: a retry after a committed attempt finds its row and answers
 * true without writing again. False when the reservation had already left `held` (paid for,
 * cancelled or expired meanwhile) and this extension was never recorded.
 */
export async function extendHold(db: Queryable, extension: HoldExtension): Promise<boolean> {
  const { rows } = await db.query<{ applied: boolean }>(
    `with moved as (
       update reservations
       set expires_at = greatest(expires_at, $6::timestamptz)
       where id = $1::uuid and status = 'held'
         and not exists (select 1 from hold_extensions where reservation_id = $1::uuid and seq = $2::int)
       returning id
     ), recorded as (
       insert into hold_extensions (reservation_id, seq, seconds, extended_by, reason, expires_at)
       select id, $2::int, $3::int, $4::text, $5::text, $6::timestamptz from moved
       returning 1
     )
     select exists (select 1 from recorded)
         or exists (select 1 from hold_extensions where reservation_id = $1::uuid and seq = $2::int) as applied`,
    [extension.reservationId, extension.seq, extension.seconds, extension.by, extension.reason ?? null, extension.expiresAt],
  );
  return rows[0]?.applied ?? false;
}
