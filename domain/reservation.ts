/**
 * Domain types shared by the API, the activities and the workflows.
 * Pure TypeScript: no Node built-ins, no I/O, safe inside the workflow sandbox.
 */

import type { WaitingRoomSettings } from './waiting-room';

export const RESERVATION_STATUSES = ['held', 'payment_pending', 'paid', 'expired', 'cancelled', 'payment_failed'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

/** Statuses in which a reservation still holds (or owns) its unit. */
export const LIVE_STATUSES: readonly ReservationStatus[] = ['held', 'payment_pending', 'paid'];

/** Statuses from which nothing moves any more. */
export const FINAL_STATUSES: readonly ReservationStatus[] = ['paid', 'expired', 'cancelled', 'payment_failed'];

export function isFinal(status: ReservationStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

/** How a reservation that did not end paid gave its unit back. */
export type ReleaseReason = 'expired' | 'cancelled' | 'payment_failed';

export type PaymentStatus = 'pending' | 'captured' | 'failed' | 'refunded';

export interface PaymentView {
  status: PaymentStatus;
  chargeId?: string;
  failureReason?: string;
}

/** The reservation as the HTTP API shows it (contract shape). */
export interface ReservationView {
  id: string;
  saleId: string;
  unitId: number;
  userId: string;
  status: ReservationStatus;
  expiresAt: string;
  createdAt: string;
  /** Only on a waitlist offer (a hold a release made for the next waitlisted shopper). */
  origin?: 'waitlist';
  payment?: PaymentView;
}

export type UnitStatus = 'available' | 'held' | 'sold' | 'withdrawn';

/**
 * What happens to a unit that comes back (hold expired, cancelled, payment failed): `relist` makes
 * it available again, `undersell` withdraws it for good, `waitlist` offers it as a new hold to the
 * next shopper on the sale's waitlist (available again only while nobody waits).
 */
export const RELEASE_POLICIES = ['relist', 'waitlist', 'undersell'] as const;
export type ReleasePolicy = (typeof RELEASE_POLICIES)[number];
export const DEFAULT_RELEASE_POLICY: ReleasePolicy = 'relist';

/** How a reservation came to be: a shopper's claim, or a waitlist offer made by a release. */
export type ReservationOrigin = 'claim' | 'waitlist';

export type SaleStatus = 'scheduled' | 'live' | 'sold_out';

export interface SaleView {
  id: string;
  sku: string;
  name: string;
  units: number;
  priceCents: number;
  currency: string;
  startsAt: string;
  holdSeconds: number;
  releasePolicy: ReleasePolicy;
  status: SaleStatus;
  available: number;
  held: number;
  sold: number;
  /** Present when the sale was created with a waiting room. */
  waitingRoom?: WaitingRoomSettings;
  /** Units released on an undersell sale, never to be sold (0 on other sales). */
  withdrawn: number;
  /** Waitlist sales only: shoppers still waiting for a unit. */
  waitlisted?: number;
}

/**
 * A shopper's place on a sale's waitlist. `position` is 1 for the next shopper to be offered a
 * unit, and 0 once the shopper's turn has come (any status but `waiting`).
 */
export const WAITLIST_STATUSES = [
  'waiting',
  'offered',
  'purchased',
  'offer-expired',
  'offer-cancelled',
  'offer-payment-failed',
  'passed-over',
] as const;
export type WaitlistStatus = (typeof WAITLIST_STATUSES)[number];

export interface WaitlistEntryView {
  saleId: string;
  status: WaitlistStatus;
  position: number;
  joinedAt: string;
  /** The offered reservation, once there is one. */
  reservationId?: string;
  /** When the offered hold ends. */
  expiresAt?: string;
}

export const DEFAULT_HOLD_SECONDS = 300;
