/**
 * Everything a client needs to talk to a reservation workflow: its id scheme, task queue,
 * input, messages and search attributes. Imported by the API and by the workflow itself.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ReleaseReason, ReservationStatus } from './reservation';

export const DEFAULT_TASK_QUEUE = 'flash-sale-reservations';

export function reservationWorkflowId(reservationId: string): string {
  return `reservation-${reservationId}`;
}

export interface ReservationWorkflowInput {
  reservationId: string;
  saleId: string;
  unitId: number;
  shopperId: string;
  /** Epoch milliseconds at which the hold ends; set by the claim transaction, never recomputed. */
  expiresAtMs: number;
}

export interface ReservationWorkflowResult {
  status: ReservationStatus;
  releasedAs?: ReleaseReason;
}

export interface ReservationState {
  status: ReservationStatus;
  expiresAtMs: number;
}

export const reservationStateQuery = defineQuery<ReservationState>('reservationState');

/** Cancels a held reservation; resolves once the unit has been released. */
export const cancelReservationUpdate = defineUpdate<ReservationStatus>('cancelReservation');

export const SaleIdAttribute = defineSearchAttributeKey('SaleId', SearchAttributeType.KEYWORD);
export const ShopperIdAttribute = defineSearchAttributeKey('ShopperId', SearchAttributeType.KEYWORD);
export const ReservationStatusAttribute = defineSearchAttributeKey('ReservationStatus', SearchAttributeType.KEYWORD);

/** `--search-attribute` values for `temporal server start-dev`. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS = ['SaleId=Keyword', 'ShopperId=Keyword', 'ReservationStatus=Keyword'];
