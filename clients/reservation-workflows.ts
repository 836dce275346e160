import { ServiceError, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import { ErrorCode } from '../domain/errors';
import type { ReservationStatus } from '../domain/reservation';
import type { ChargeEvent } from '../domain/payment';
import {
  cancelReservationUpdate,
  chargeEventSignal,
  extendHoldUpdate,
  lateChargeWorkflowId,
  reservationDetails,
  reservationSummary,
  reservationWorkflowId,
  submitPaymentUpdate,
  type LateChargeInput,
  ReservationStatusAttribute,
  SaleIdAttribute,
  ShopperIdAttribute,
  type ExtendHoldRequest,
  type ReservationWorkflowInput,
} from '../domain/reservation-workflow-contract';
import type { ReservationRow } from '../db/rows';
import type { lateChargeWorkflow, reservationWorkflow } from '../workflows';
import {
  DETAILS_MAX_BYTES,
  fitPayload,
  fitPayloadKeepingTail,
  SEARCH_ATTRIBUTE_VALUE_MAX_BYTES,
  SUMMARY_MAX_BYTES,
  truncateUtf8,
} from './workflow-metadata';

export interface ReservationWorkflows {
  /**
   * Starts `reservation-<id>`. Idempotent: a workflow that exists, running or closed, counts as
   * started (the id may never be reused, so a late retry cannot run a reservation twice).
   * `saleName` goes into the summary support staff see in the Web UI ("XPhone 15 · alice · unit 23"),
   * cut to Temporal's limits (clients/workflow-metadata.ts). A start Temporal refuses for good
   * (INVALID_ARGUMENT) throws WorkflowStartRefusedError.
   */
  start(input: ReservationWorkflowInput, saleName?: string): Promise<void>;
  /** Whether `reservation-<id>` exists, running or closed; throws when Temporal cannot say. */
  exists(reservationId: string): Promise<boolean>;
  /** Returns the status after cancelling, or the workflow's refusal code. */
  cancel(reservationId: string): Promise<UpdateAnswer>;
  /** Hands the payment to the workflow; answers once the reservation is payment_pending. */
  submitPayment(reservationId: string, paymentMethod: string): Promise<UpdateAnswer>;
  /** Support extends a held reservation's hold (workflow update `extendHold`); answers the new deadline or the refusal. */
  extendHold(reservationId: string, request: ExtendHoldRequest): Promise<ExtendHoldAnswer>;
  /** Delivers a provider webhook to a running reservation workflow; false when it has finished. */
  signalChargeEvent(reservationId: string, event: ChargeEvent): Promise<boolean>;
  /** Starts the refund check for a capture reported after the reservation's workflow finished. */
  startLateCharge(input: LateChargeInput, saleId: string): Promise<void>;
}

export type UpdateAnswer = { ok: true; status: ReservationStatus } | { ok: false; code: ErrorCode };
export type ExtendHoldAnswer = { ok: true; expiresAtMs: number } | { ok: false; code: ErrorCode; message: string };

export function workflowInputOf(reservation: ReservationRow): ReservationWorkflowInput {
  return {
    reservationId: reservation.id,
    saleId: reservation.sale_id,
    unitId: reservation.unit_id,
    shopperId: reservation.user_id,
    expiresAtMs: reservation.expires_at.getTime(),
  };
}

/** A refusal by the workflow (its validator or handler) is an answer; anything else is an error. */
async function refusalAware(update: () => Promise<ReservationStatus>): Promise<UpdateAnswer> {
  const answer = await refusalOr(update);
  return 'refusal' in answer ? { ok: false, code: answer.refusal.code } : { ok: true, status: answer.value };
}

async function refusalOr<T>(update: () => Promise<T>): Promise<{ value: T } | { refusal: { code: ErrorCode; message: string } }> {
  try {
    return { value: await update() };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const code = (error.cause.type as ErrorCode | undefined) ?? ErrorCode.InvalidState;
      return { refusal: { code, message: error.cause.message } };
    }
    if (error instanceof WorkflowNotFoundError)
      return { refusal: { code: ErrorCode.InvalidState, message: 'the workflow has finished' } };
    // The server failed the workflow task that carried the update (it tried to end the workflow
    // while a cancel arrived): the update was not applied, and the workflow is ending.
    if (
      error instanceof ServiceError &&
      error.cause instanceof Error &&
      /unexpected workflow task failure/i.test(error.cause.message)
    )
      return { refusal: { code: ErrorCode.InvalidState, message: 'the reservation is ending' } };
    throw error;
  }
}

/** A start Temporal refused for good: the same request would be refused on every retry. */
export class WorkflowStartRefusedError extends Error {
  override name = 'WorkflowStartRefusedError';
  constructor(readonly reason: string) {
    super(`Temporal refused to start the workflow: ${reason}`);
  }
}

/** gRPC status INVALID_ARGUMENT: the request itself is wrong (a limit, an unknown search attribute). */
const GRPC_INVALID_ARGUMENT = 3;

/**
 * Ids are never reused (REJECT_DUPLICATE): a workflow that exists, running or closed, counts as
 * started. Other refusals are retryable (Temporal unreachable, overloaded) but INVALID_ARGUMENT.
 */
async function startOnce(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) return;
    const cause: unknown = error instanceof ServiceError ? error.cause : undefined;
    if (typeof cause === 'object' && cause !== null && 'code' in cause && cause.code === GRPC_INVALID_ARGUMENT) {
      const details = 'details' in cause && typeof cause.details === 'string' ? cause.details : '';
      throw new WorkflowStartRefusedError(details || (error as Error).message);
    }
    throw error;
  }
}

/**
 * The summary within Temporal's limit, encrypted: the shopper id bounded first, then the sale's
 * name cut to the room left, so " · <shopper> · unit N" always survives whole.
 */
function boundedSummary(input: ReservationWorkflowInput, saleName?: string): string {
  const summary = reservationSummary({ ...input, shopperId: truncateUtf8(input.shopperId, 96) }, saleName);
  const head = saleName ?? summary.slice(0, summary.indexOf(' · '));
  return fitPayloadKeepingTail(head, summary.slice(head.length), SUMMARY_MAX_BYTES);
}

/** A keyword search attribute's value within Temporal's size limit (a shopper id is at most 128 characters, well under it). */
const keyword = (value: string) => fitPayload(value, SEARCH_ATTRIBUTE_VALUE_MAX_BYTES);

export function createReservationWorkflows(client: Client, taskQueue: string): ReservationWorkflows {
  return {
    start: (input, saleName) =>
      startOnce(() =>
        client.workflow.start<typeof reservationWorkflow>('reservationWorkflow', {
          workflowId: reservationWorkflowId(input.reservationId),
          taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          staticSummary: boundedSummary(input, saleName),
          staticDetails: fitPayload(reservationDetails(input, saleName), DETAILS_MAX_BYTES),
          typedSearchAttributes: [
            { key: SaleIdAttribute, value: input.saleId },
            { key: ShopperIdAttribute, value: keyword(input.shopperId) },
            { key: ReservationStatusAttribute, value: 'held' },
          ],
        }),
      ),

    async exists(reservationId) {
      try {
        await client.workflow.getHandle(reservationWorkflowId(reservationId)).describe();
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },

    cancel: (reservationId) =>
      refusalAware(() => client.workflow.getHandle(reservationWorkflowId(reservationId)).executeUpdate(cancelReservationUpdate)),

    submitPayment: (reservationId, paymentMethod) =>
      refusalAware(() =>
        client.workflow
          .getHandle(reservationWorkflowId(reservationId))
          .executeUpdate(submitPaymentUpdate, { args: [{ paymentMethod }] }),
      ),

    async extendHold(reservationId, request) {
      const answer = await refusalOr(() =>
        client.workflow.getHandle(reservationWorkflowId(reservationId)).executeUpdate(extendHoldUpdate, { args: [request] }),
      );
      return 'refusal' in answer ? { ok: false, ...answer.refusal } : { ok: true, expiresAtMs: answer.value.expiresAtMs };
    },

    async signalChargeEvent(reservationId, event) {
      try {
        await client.workflow.getHandle(reservationWorkflowId(reservationId)).signal(chargeEventSignal, event);
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },

    startLateCharge: (input, saleId) =>
      startOnce(() =>
        client.workflow.start<typeof lateChargeWorkflow>('lateChargeWorkflow', {
          workflowId: lateChargeWorkflowId(input.chargeId),
          taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [{ key: SaleIdAttribute, value: saleId }],
          staticSummary: fitPayload(`Late capture ${input.chargeId} · reservation ${input.reservationId}`, SUMMARY_MAX_BYTES),
        }),
      ),
  };
}
