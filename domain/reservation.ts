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
  payment?: PaymentView;
}

export type UnitStatus = 'available' | 'held' | 'sold';

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
  status: SaleStatus;
  available: number;
  held: number;
  sold: number;
  /** Present when the sale was created with a waiting room. */
  waitingRoom?: WaitingRoomSettings;
}

export const DEFAULT_HOLD_SECONDS = 300;
