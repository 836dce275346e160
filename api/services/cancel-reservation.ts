import type { Pool } from 'pg';
import { findReservation } from '../../db/queries/find-reservation';
import type { ReservationRow } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import { workflowInputOf, WorkflowStartRefusedError, type ReservationWorkflows } from '../../clients/reservation-workflows';
import { Problem } from '../problem';

/** Temporal's reason stays with the operators (the row, the worker's log, the dashboard). */
const startRefused = () =>
  new Problem(409, ErrorCode.StartRefused, 'the reservation could not be started, so its unit was given back; claim again');

/** A 409 `start-refused` for a reservation whose workflow start the outbox relay gave up. */
export function refuseIfStartRefused(reservation: ReservationRow): void {
  if (reservation.start_refusal !== null) throw startRefused();
}

/** A 409 `invalid-state` unless the reservation is held: only a hold can be cancelled or extended. */
export function requireHeld(reservation: ReservationRow, action: 'cancelled' | 'extended'): void {
  refuseIfStartRefused(reservation);
  if (reservation.status !== 'held') {
    throw new Problem(409, ErrorCode.InvalidState, `a ${reservation.status} reservation cannot be ${action}`, {
      reservationStatus: reservation.status,
    });
  }
}

/**
 * Starts the reservation's workflow if the relay has not yet; starting is idempotent. A start
 * Temporal refuses for good is a 409 `start-refused` (the relay gives the unit back), not a 503.
 */
export async function ensureWorkflowStarted(workflows: ReservationWorkflows, reservation: ReservationRow): Promise<void> {
  if (reservation.workflow_started_at) return;
  try {
    await workflows.start(workflowInputOf(reservation));
  } catch (error) {
    if (error instanceof WorkflowStartRefusedError) throw startRefused();
    throw error;
  }
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
