import type { Pool } from 'pg';
import { findReservation } from '../../db/queries/find-reservation';
import type { ReservationRow } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import { workflowInputOf, type ReservationWorkflows } from '../../clients/reservation-workflows';
import { Problem } from '../problem';

/** A 409 `invalid-state` unless the reservation is held: only a hold can be cancelled or extended. */
export function requireHeld(reservation: ReservationRow, action: 'cancelled' | 'extended'): void {
  if (reservation.status !== 'held') {
    throw new Problem(409, ErrorCode.InvalidState, `a ${reservation.status} reservation cannot be ${action}`, {
      reservationStatus: reservation.status,
    });
  }
}

/** Starts the reservation's workflow if the relay has not yet; starting is idempotent. */
export async function ensureWorkflowStarted(workflows: ReservationWorkflows, reservation: ReservationRow): Promise<void> {
  if (!reservation.workflow_started_at) await workflows.start(workflowInputOf(reservation));
}

/**
 * Cancels a held reservation through its workflow's cancel update, for the shopper
 * (POST /v1/reservations/:id/cancel) and for support (POST /v1/admin/reservations/:id/cancel),
 * and returns the reservation as it is after. A reservation not held, or no longer held when the
 * update runs (paid or expired meanwhile), is a 409 `invalid-state` naming its status.
 */
export async function cancelHeldReservation(
  deps: { pool: Pool; workflows: ReservationWorkflows },
  reservation: ReservationRow,
): Promise<ReservationRow> {
  requireHeld(reservation, 'cancelled');
  await ensureWorkflowStarted(deps.workflows, reservation);
  const result = await deps.workflows.cancel(reservation.id);
  const after = (await findReservation(deps.pool, reservation.id)) ?? reservation;
  if (!result.ok || after.status !== 'cancelled') {
    throw new Problem(409, ErrorCode.InvalidState, `a ${after.status} reservation cannot be cancelled`, {
      reservationStatus: after.status,
    });
  }
  return after;
}
