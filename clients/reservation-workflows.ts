import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { ErrorCode } from '../domain/errors';
import type { ReservationStatus } from '../domain/reservation';
import {
  cancelReservationUpdate,
  reservationWorkflowId,
  ReservationStatusAttribute,
  SaleIdAttribute,
  ShopperIdAttribute,
  type ReservationWorkflowInput,
} from '../domain/reservation-workflow-contract';
import type { ReservationRow } from '../db/rows';
import type { reservationWorkflow } from '../workflows';

export interface ReservationWorkflows {
  /**
   * Starts `reservation-<id>`. Idempotent: a workflow that exists, running or closed, counts as
   * started (the id may never be reused, so a late retry cannot run a reservation twice).
   */
  start(input: ReservationWorkflowInput): Promise<void>;
  /** Returns the status after cancelling, or the workflow's refusal code. */
  cancel(reservationId: string): Promise<{ ok: true; status: ReservationStatus } | { ok: false; code: ErrorCode }>;
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

export function createReservationWorkflows(client: Client, taskQueue: string): ReservationWorkflows {
  return {
    async start(input) {
      try {
        await client.workflow.start<typeof reservationWorkflow>('reservationWorkflow', {
          workflowId: reservationWorkflowId(input.reservationId),
          taskQueue,
          args: [input],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          typedSearchAttributes: [
            { key: SaleIdAttribute, value: input.saleId },
            { key: ShopperIdAttribute, value: input.shopperId },
            { key: ReservationStatusAttribute, value: 'held' },
          ],
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
    },

    async cancel(reservationId) {
      const handle = client.workflow.getHandle(reservationWorkflowId(reservationId));
      try {
        const status = await handle.executeUpdate(cancelReservationUpdate);
        return { ok: true, status };
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
          return { ok: false, code: (error.cause.type as ErrorCode | undefined) ?? ErrorCode.InvalidState };
        }
        throw error;
      }
    },
  };
}
