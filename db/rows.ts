import type { WaitingRoomSettings } from '../domain/waiting-room';
import type {
  PaymentStatus,
  ReleasePolicy,
  ReservationOrigin,
  ReservationStatus,
  ReservationView,
  SaleStatus,
  SaleView,
} from '../domain/reservation';

export interface SaleRow {
  id: string;
  sku: string;
  name: string;
  units: number;
  price_cents: number;
  currency: string;
  starts_at: Date;
  hold_seconds: number;
  stripes: number;
  /** The sale's waiting room (migrations/0005), or null for a sale claimed without one. */
  waiting_room: WaitingRoomSettings | null;
  release_policy: ReleasePolicy;
}

export interface UnitCounts {
  available: number;
  held: number;
  sold: number;
  withdrawn: number;
}

export interface ReservationRow {
  id: string;
  sale_id: string;
  unit_id: number;
  user_id: string;
  status: ReservationStatus;
  expires_at: Date;
  created_at: Date;
  workflow_started_at: Date | null;
  payment_status: PaymentStatus | null;
  charge_id: string | null;
  failure_reason: string | null;
  origin: ReservationOrigin;
  /** Why Temporal refused to start its workflow for good; the relay then gave the unit back (migrations/0014). */
  start_refusal: string | null;
}

export const RESERVATION_COLUMNS =
  'id, sale_id, unit_id, user_id, status, expires_at, created_at, workflow_started_at, payment_status, charge_id, failure_reason, origin, start_refusal';

export function toReservationView(row: ReservationRow): ReservationView {
  return {
    id: row.id,
    saleId: row.sale_id,
    unitId: row.unit_id,
    userId: row.user_id,
    status: row.status,
    expiresAt: row.expires_at.toISOString(),
    createdAt: row.created_at.toISOString(),
    ...(row.origin === 'waitlist' && { origin: row.origin }),
    ...(row.payment_status && {
      payment: {
        status: row.payment_status,
        ...(row.charge_id && { chargeId: row.charge_id }),
        ...(row.failure_reason && { failureReason: row.failure_reason }),
      },
    }),
  };
}

export function saleStatus(sale: SaleRow, counts: UnitCounts, now: Date): SaleStatus {
  if (now < sale.starts_at) return 'scheduled';
  return counts.available === 0 ? 'sold_out' : 'live';
}

/** `waitlisted`: the sale's waiting shoppers, shown for waitlist sales only. */
export function toSaleView(sale: SaleRow, counts: UnitCounts, now: Date, waitlisted?: number): SaleView {
  return {
    id: sale.id,
    sku: sale.sku,
    name: sale.name,
    units: sale.units,
    priceCents: sale.price_cents,
    currency: sale.currency,
    startsAt: sale.starts_at.toISOString(),
    holdSeconds: sale.hold_seconds,
    releasePolicy: sale.release_policy,
    status: saleStatus(sale, counts, now),
    available: counts.available,
    held: counts.held,
    sold: counts.sold,
    withdrawn: counts.withdrawn,
    ...(sale.release_policy === 'waitlist' && { waitlisted: waitlisted ?? 0 }),
    ...(sale.waiting_room && { waitingRoom: sale.waiting_room }),
  };
}
