import type { Pool } from 'pg';
import { withTransaction } from '../pool';

export interface CompletedCharge {
  reservationId: string;
  chargeId: string;
  gateway: string;
  amountCents: number;
  currency: string;
}

export type CompleteSaleResult = 'sold' | 'already-sold' | 'not-pending';

/*
 * The payment landed: in one transaction the reservation becomes paid, its unit sold and the
 * capture is recorded; the last unit sold also marks its waiting room sold out. Retried after a commit it answers `already-sold` and changes nothing;
 * for a reservation that is no longer payment_pending (released) it answers `not-pending`, and
 * the caller refunds the charge.
 */
export async function completeSale(pool: Pool, charge: CompletedCharge): Promise<CompleteSaleResult> {
  return withTransaction(pool, async (client) => {
    const { rows } = await client.query<{ status: string; charge_id: string | null; sale_id: string; unit_id: number }>(
      `select status, charge_id, sale_id, unit_id from reservations where id = $1::uuid for update`,
      [charge.reservationId],
    );
    const reservation = rows[0];
    if (!reservation) throw new Error(`reservation ${charge.reservationId} does not exist`);
    if (reservation.status === 'paid') return reservation.charge_id === charge.chargeId ? 'already-sold' : 'not-pending';
    if (reservation.status !== 'payment_pending') return 'not-pending';

    await client.query(
      `update reservations
       set status = 'paid', payment_status = 'captured', charge_id = $2::text, paid_at = now()
       where id = $1::uuid`,
      [charge.reservationId, charge.chargeId],
    );
    const sold = await client.query(
      `update units set status = 'sold'
       where sale_id = $1::uuid and id = $2::int and reservation_id = $3::uuid and status = 'held'`,
      [reservation.sale_id, reservation.unit_id, charge.reservationId],
    );
    if (sold.rowCount !== 1) throw new Error(`unit of reservation ${charge.reservationId} is not held by it`);
    // The last unit sold closes the sale's waiting room now, in this transaction, rather than at the
    // admission step's next tick: its queue_moved notification tells every queued shopper at once.
    // Two last sales committing together each still see the other's unit held; then the step,
    // a second later, records it (db/queries/admission.ts `admitStep`).
    await client.query(
      `update waiting_rooms set sold_out_at = now()
       where sale_id = $1::uuid and sold_out_at is null
         and not exists (select 1 from units where sale_id = $1::uuid and status in ('available', 'held'))`,
      [reservation.sale_id],
    );
    await client.query(
      `insert into charges (id, reservation_id, gateway, amount_cents, currency, status)
       values ($1::text, $2::uuid, $3::text, $4::int, $5::text, 'captured')`,
      [charge.chargeId, charge.reservationId, charge.gateway, charge.amountCents, charge.currency],
    );
    return 'sold';
  });
}
