/**
 * A shopper's order history (GET /v1/me/reservations): their reservations across every sale,
 * newest first. Shared by the API and the checkout site's "My orders" page.
 */
import type { PaymentStatus, ReservationStatus } from './reservation';

/** Page sizes a client may ask for; without `limit` a page has ORDER_PAGE_DEFAULT items. */
export const ORDER_PAGE_DEFAULT = 20;
export const ORDER_PAGE_MAX = 100;

export interface OrderView {
  /** The reservation's id (GET /v1/reservations/:id). */
  id: string;
  saleId: string;
  saleName: string;
  status: ReservationStatus;
  /** The sale's unit price and currency. */
  priceCents: number;
  currency: string;
  /** Present once a payment was submitted. */
  payment?: {
    status: PaymentStatus;
    /** Every capture the provider reported for this reservation, and the part of it refunded. */
    capturedCents: number;
    refundedCents: number;
  };
  createdAt: string;
  /** When the hold ends or ended. */
  expiresAt: string;
  /** When the unit was sold to this shopper; null unless paid. */
  paidAt: string | null;
  /** When the hold ended without a sale (expired, cancelled, payment failed); null otherwise. */
  endedAt: string | null;
}

export interface OrderPage {
  items: OrderView[];
  /** Goes back as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}
