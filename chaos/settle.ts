import type { Pool } from 'pg';
import type { PaymentGateway } from '../payments/gateway';

export interface SettleState {
  held: number;
  paymentPending: number;
  /** Open reservations whose hold ended more than 5 s ago. */
  overdue: number;
  unstarted: number;
  /** Reservations of the sale that have ended (paid, expired, cancelled, payment failed). */
  ended: number;
  processingCharges: number;
}

export async function settleState(pool: Pool, gateways: readonly PaymentGateway[], saleId: string): Promise<SettleState> {
  const { rows } = await pool.query<Omit<SettleState, 'processingCharges'>>(
    `select count(*) filter (where status = 'held')::int as held,
            count(*) filter (where status = 'payment_pending')::int as "paymentPending",
            count(*) filter (where status in ('held', 'payment_pending') and expires_at < now() - interval '5 seconds')::int as overdue,
            count(*) filter (where status in ('held', 'payment_pending') and workflow_started_at is null)::int as unstarted,
            count(*) filter (where status not in ('held', 'payment_pending'))::int as ended
     from reservations where sale_id = $1::uuid`,
    [saleId],
  );
  const ledgers = await Promise.all(gateways.map((gateway) => gateway.ledger()));
  const processingCharges = ledgers.flatMap((ledger) => ledger.charges).filter((c) => c.status === 'processing').length;
  return { ...rows[0]!, processingCharges };
}

/**
 * After the load: waits until no reservation is open and no gateway has a charge in flight, so
 * the checker sees the end state rather than a payment half way. The bound is on a stall, not on
 * the whole wait: it starts again whenever a reservation ends, because on a waitlist sale each
 * unit that comes back is offered to the next entry on a fresh hold, and entries of shoppers who
 * left let their offers run out one hold after another.
 */
export async function waitUntilSettled(
  pool: Pool,
  gateways: readonly PaymentGateway[],
  saleId: string,
  timeoutMs: number,
  say: (message: string) => void,
): Promise<{ settled: boolean; ms: number; last?: SettleState }> {
  const began = Date.now();
  let progressAt = began;
  let last: SettleState | undefined;
  let lastSaid = 0;
  while (Date.now() - progressAt < timeoutMs) {
    try {
      const previous = last;
      last = await settleState(pool, gateways, saleId);
      if (last.held + last.paymentPending + last.processingCharges === 0) return { settled: true, ms: Date.now() - began, last };
      if (previous && last.ended > previous.ended) progressAt = Date.now();
      if (Date.now() - lastSaid > 5_000) {
        say(`settling: ${JSON.stringify(last)}`);
        lastSaid = Date.now();
      }
    } catch (error) {
      say(`settling: could not read the state: ${String(error)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  return { settled: false, ms: Date.now() - began, last };
}

export async function reservationsByStatus(pool: Pool, saleId: string): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from reservations where sale_id = $1::uuid group by status order by status`,
    [saleId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}
