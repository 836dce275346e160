import type { SaleStatus } from './reservation';

/*
 * What the sale streams send (api/services/sale-feed.ts, api/routes/sale-events.ts,
 * api/routes/admin-sales.ts) and the dashboard page reads (web/src/dashboard.ts).
 */

/** One reading of a sale. */
export interface SalePoint {
  /** Epoch milliseconds of the reading. */
  at: number;
  status: SaleStatus;
  /** Units by status: always `available`, `held`, `sold`, plus any other status that has units. */
  units: Record<string, number>;
  /** Held reservations whose hold ends within the next minute. */
  expiringNextMinute: number;
  /** Reservations whose workflow start the outbox relay gave up, giving the unit back (`start_refusal` says why). */
  startsRefused: number;
  /** The latest of their reasons, or null. */
  lastStartRefusal: string | null;
  /** The sale's reservations by payment status (`pending`, `captured`, `failed`, `refunded`). */
  payments: Record<string, number>;
  /** Claims per second by outcome, answered by THIS API process since the previous reading. */
  claimsPerSecond: Record<string, number>;
  /** Reservations created per second since the previous reading, by every API process (from Postgres). */
  reservationsPerSecond: number;
  /** Waiting room, when the sale has one: shoppers queued but not yet admitted, and admissions per second. */
  queue: { length: number; admittedPerSecond: number } | null;
}

export interface InvariantViolation {
  /** A contract invariant by number, or `queue`: the waiting room's own rules (docs/DESIGN.md, "Waiting room"). */
  invariant: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 'queue';
  detail: string;
}

/** What the dashboard shows of the invariant checker (invariants/check-sale-invariants.ts). */
export interface InvariantVerdict {
  ok: boolean;
  /** Epoch milliseconds of the check. */
  checkedAt: number;
  violations: InvariantViolation[];
}

/** The admin stream's `snapshot` event (GET /v1/admin/sales/:saleId/events): a reading and what the dashboard adds to it. */
export interface AdminSaleSnapshot extends SalePoint {
  sale: { id: string; name: string; sku: string; units: number; startsAt: string };
  /** The invariant checker's latest verdict for the sale; null before its first check. */
  invariants: InvariantVerdict | null;
  /** Links into the Temporal Web UI: all the sale's reservation workflows, and one per status; null when not configured. */
  temporalUi: { all: string; byStatus: Record<string, string> } | null;
}
