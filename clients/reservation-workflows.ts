import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/common';
import { ErrorCode } from '../domain/errors';
import type { ReservationStatus } from '../domain/reservation';
import type { ChargeEvent } from '../domain/payment';
import {
  cancelReservationUpdate,
  chargeEventSignal,
  lateChargeWorkflowId,
  reservationWorkflowId,
  submitPaymentUpdate,
  type LateChargeInput,
  ReservationStatusAttribute,
  SaleIdAttribute,
  ShopperIdAttribute,
  RESERVATION_WORKFLOW_TYPE,
  type ReservationWorkflowInput,
  type ReservationWorkflowType,
} from '../domain/reservation-workflow-contract';
import type { ReservationRow } from '../db/rows';
import type { lateChargeWorkflow, reservationWorkflow } from '../workflows';

export interface ReservationWorkflows {
  /**
   * Starts `reservation-<id>`. Idempotent: a workflow that exists, running or closed, counts as
   * started (the id may never be reused, so a late retry cannot run a reservation twice).
   */
  start(input: ReservationWorkflowInput): Promise<void>;
  /** Returns the status after cancelling, or the workflow's refusal code. */
  cancel(reservationId: string): Promise<UpdateAnswer>;
  /** Hands the payment to the workflow; answers once the reservation is payment_pending. */
  submitPayment(reservationId: string, paymentMethod: string): Promise<UpdateAnswer>;
  /** Delivers a provider webhook to a running reservation workflow; false when it has finished. */
  signalChargeEvent(reservationId: string, event: ChargeEvent): Promise<boolean>;
  /** Starts the refund check for a capture reported after the reservation's workflow finished. */
  startLateCharge(input: LateChargeInput): Promise<void>;
}

export type UpdateAnswer = { ok: true; status: ReservationStatus } | { ok: false; code: ErrorCode };

export interface ReservationWorkflowsOptions {
  /** The workflow type new reservations run (default RESERVATION_WORKFLOW_TYPE); every type stays registered. */
  reservationWorkflowType?: ReservationWorkflowType;
}

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
  try {
    return { ok: true, status: await update() };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      return { ok: false, code: (error.cause.type as ErrorCode | undefined) ?? ErrorCode.InvalidState };
    }
    if (error instanceof WorkflowNotFoundError) return { ok: false, code: ErrorCode.InvalidState };
    throw error;
  }
}

/** Ids are never reused (REJECT_DUPLICATE): a workflow that exists, running or closed, counts as started. */
async function startOnce(start: () => Promise<unknown>): Promise<void> {
  try {
    await start();
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

export function createReservationWorkflows(
  client: Client,
  taskQueue: string,
  options: ReservationWorkflowsOptions = {},
): ReservationWorkflows {
  const workflowType = options.reservationWorkflowType ?? RESERVATION_WORKFLOW_TYPE;
  return {
    start: (input) =>
      startOnce(() =>
        client.workflow.start<typeof reservationWorkflow>(workflowType, {
          workflowId: reservationWorkflowId(input.reservationId),
          taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: SaleIdAttribute, value: input.saleId },
            { key: ShopperIdAttribute, value: input.shopperId },
            { key: ReservationStatusAttribute, value: 'held' },
          ],
        }),
      ),

    cancel: (reservationId) =>
      refusalAware(() => client.workflow.getHandle(reservationWorkflowId(reservationId)).executeUpdate(cancelReservationUpdate)),

    submitPayment: (reservationId, paymentMethod) =>
      refusalAware(() =>
        client.workflow
          .getHandle(reservationWorkflowId(reservationId))
          .executeUpdate(submitPaymentUpdate, { args: [{ paymentMethod }] }),
      ),

    async signalChargeEvent(reservationId, event) {
      try {
        await client.workflow.getHandle(reservationWorkflowId(reservationId)).signal(chargeEventSignal, event);
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },

    startLateCharge: (input) =>
      startOnce(() =>
        client.workflow.start<typeof lateChargeWorkflow>('lateChargeWorkflow', {
          workflowId: lateChargeWorkflowId(input.chargeId),
          taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        }),
      ),
  };
}
