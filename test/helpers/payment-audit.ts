import type { Pool } from 'pg';
import type { Ledger } from './payments';

export interface PaymentAudit {
  paid: number;
  released: number;
  captures: number;
  refunds: number;
  violations: string[];
}

/*
 * Invariants 3 and 4 between our database and the provider's ledgers: every paid reservation has
 * exactly one capture and it is the charge on the reservation; no capture survives for a
 * reservation that did not buy with it (those are refunded, and the refund is recorded).
 */
export async function auditPayments(db: Pool, saleId: string, ledgers: Ledger[]): Promise<PaymentAudit> {
  const { rows: reservations } = await db.query<{ id: string; status: string; charge_id: string | null }>(
    `select id, status, charge_id from reservations where sale_id = $1`,
    [saleId],
  );
  const { rows: recorded } = await db.query<{ id: string; status: string }>(
    `select c.id, c.status from charges c join reservations r on r.id = c.reservation_id where r.sale_id = $1`,
    [saleId],
  );
  const recordedById = new Map(recorded.map((c) => [c.id, c.status]));
  const ours = new Map(reservations.map((r) => [r.id, r]));
  const charges = ledgers.flatMap((ledger) => ledger.charges).filter((c) => ours.has(c.reference));
  const violations: string[] = [];

  for (const reservation of reservations) {
    const captured = charges.filter((c) => c.reference === reservation.id && c.status === 'succeeded');
    if (reservation.status === 'paid') {
      if (captured.length !== 1) violations.push(`paid ${reservation.id} has ${captured.length} captures`);
      else if (captured[0]!.id !== reservation.charge_id)
        violations.push(`paid ${reservation.id} records ${reservation.charge_id}, provider captured ${captured[0]!.id}`);
    } else if (captured.length > 0) {
      violations.push(`${reservation.status} ${reservation.id} has unrefunded captures ${captured.map((c) => c.id).join(', ')}`);
    }
  }
  for (const charge of charges.filter((c) => c.status === 'refunded')) {
    if (recordedById.get(charge.id) !== 'refunded')
      violations.push(`refund of ${charge.id} not recorded (${recordedById.get(charge.id) ?? 'no row'})`);
  }
  const { rows: counts } = await db.query<{ sold: number; held: number; paid: number }>(
    `select (select count(*)::int from units where sale_id = $1 and status = 'sold') as sold,
            (select count(*)::int from units where sale_id = $1 and status = 'held') as held,
            (select count(*)::int from reservations where sale_id = $1 and status = 'paid') as paid`,
    [saleId],
  );
  if (counts[0]!.sold !== counts[0]!.paid)
    violations.push(`${counts[0]!.sold} units sold but ${counts[0]!.paid} reservations paid`);

  return {
    paid: counts[0]!.paid,
    released: reservations.filter((r) => ['expired', 'cancelled', 'payment_failed'].includes(r.status)).length,
    captures: charges.filter((c) => c.status === 'succeeded').length,
    refunds: charges.filter((c) => c.status === 'refunded').length,
    violations,
  };
}
