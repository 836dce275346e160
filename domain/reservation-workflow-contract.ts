/**
 * Everything a client needs to talk to a reservation workflow: its id scheme, task queue,
 * input, messages and search attributes. Imported by the API and by the workflow itself.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { ChargeEvent } from './payment';
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
  chargeId?: string;
  /** Charges that succeeded for a reservation that did not buy with them, refunded. */
  refundedCharges?: string[];
  /** Captures whose refund the provider refused for good (or ran out of retries): recorded for support. */
  failedRefunds?: string[];
}

export interface ReservationState {
  status: ReservationStatus;
  expiresAtMs: number;
}

export const reservationStateQuery = defineQuery<ReservationState>('reservationState');

/** Cancels a held reservation; resolves once the unit has been released. */
export const cancelReservationUpdate = defineUpdate<ReservationStatus>('cancelReservation');

/** Hands the shopper's payment to a held reservation; resolves once it is `payment_pending`. */
export const submitPaymentUpdate = defineUpdate<ReservationStatus, [{ paymentMethod: string }]>('submitPayment');

/** Support extends a hold: who asked, by how many seconds, and why (kept with the extension). */
export interface ExtendHoldRequest {
  seconds: number;
  by: string;
  reason?: string;
}

export interface ExtendHoldResult {
  /** Epoch milliseconds at which the extended hold now ends. */
  expiresAtMs: number;
}

/** Longest single extension: HOLD_EXTENSION_MAX_SECONDS; all of a reservation's extensions together: HOLD_EXTENSION_TOTAL_SECONDS. */
export const HOLD_EXTENSION_MAX_SECONDS = 300;
export const HOLD_EXTENSION_TOTAL_SECONDS = 600;
/** Longest reason given for an extension. */
export const HOLD_EXTENSION_REASON_MAX_LENGTH = 500;

/**
 * Moves a held reservation's deadline later (support tools). Accepted only while the
 * reservation is `held` and its hold has not ended, for a whole number of seconds within
 * 1..HOLD_EXTENSION_MAX_SECONDS and HOLD_EXTENSION_TOTAL_SECONDS per reservation in all.
 * Resolves once the new deadline is recorded in Postgres (`expires_at`, `hold_extensions`).
 */
export const extendHoldUpdate = defineUpdate<ExtendHoldResult, [ExtendHoldRequest]>('extendHold');

/** A payment provider webhook about this reservation's charge (deduplicated by the workflow). */
export const chargeEventSignal = defineSignal<[ChargeEvent]>('chargeEvent');

/** How long a submitted payment may take, all retries included, before the reservation stops waiting for it. */
export const PAYMENT_DEADLINE_SECONDS = 60;

/**
 * Attempts of the workflow's outcome notice before it is given up (workflows/activity-stubs.ts
 * `notifying`): backing off from 1 s to once a minute, about 14 minutes of a mail server answering
 * 4xx or not at all.
 */
export const OUTCOME_NOTICE_MAX_ATTEMPTS = 20;

/** The one-line summary support staff see in the Web UI's workflow list, e.g. "XPhone 15 · alice · unit 23". */
export function reservationSummary(input: ReservationWorkflowInput, saleName?: string): string {
  return `${saleName ?? `sale ${input.saleId}`} · ${input.shopperId} · unit ${input.unitId}`;
}

/** The workflow's static details in the Web UI (Markdown). */
export function reservationDetails(input: ReservationWorkflowInput, saleName?: string): string {
  return [
    `**Reservation** ${input.reservationId}`,
    `**Sale** ${saleName ? `${saleName} (${input.saleId})` : input.saleId}`,
    `**Shopper** ${input.shopperId}`,
    `**Unit** ${input.unitId}`,
    `**Hold ends** ${new Date(input.expiresAtMs).toISOString()} (before any extension)`,
  ].join('\n\n');
}

export function lateChargeWorkflowId(chargeId: string): string {
  return `late-charge-${chargeId}`;
}

export interface LateChargeInput {
  reservationId: string;
  chargeId: string;
  gateway: string;
}

export const SaleIdAttribute = defineSearchAttributeKey('SaleId', SearchAttributeType.KEYWORD);
export const ShopperIdAttribute = defineSearchAttributeKey('ShopperId', SearchAttributeType.KEYWORD);
export const ReservationStatusAttribute = defineSearchAttributeKey('ReservationStatus', SearchAttributeType.KEYWORD);

/** `--search-attribute` values for `temporal server start-dev`. */
export const SEARCH_ATTRIBUTE_REGISTRATIONS = ['SaleId=Keyword', 'ShopperId=Keyword', 'ReservationStatus=Keyword'];
