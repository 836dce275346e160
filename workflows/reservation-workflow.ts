import {
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { ErrorCode } from '../domain/errors';
import { isFinal, type ReleaseReason, type ReservationStatus } from '../domain/reservation';
import {
  cancelReservationUpdate,
  reservationStateQuery,
  ReservationStatusAttribute,
  type ReservationWorkflowInput,
  type ReservationWorkflowResult,
} from '../domain/reservation-workflow-contract';

/*
 * Releasing a unit is the compensation every ending but `paid` relies on, so it must finish:
 * no attempt cap, backing off to one attempt a minute while the database is unreachable.
 */
const { releaseUnit } = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

export async function reservationWorkflow(input: ReservationWorkflowInput): Promise<ReservationWorkflowResult> {
  let status: ReservationStatus = 'held';
  let cancelRequested = false;

  const setStatus = (next: ReservationStatus): void => {
    status = next;
    upsertSearchAttributes([{ key: ReservationStatusAttribute, value: next }]);
  };

  setHandler(reservationStateQuery, () => ({ status, expiresAtMs: input.expiresAtMs }));
  setHandler(
    cancelReservationUpdate,
    async () => {
      cancelRequested = true;
      await condition(() => isFinal(status));
      return status;
    },
    {
      validator: () => {
        if (status !== 'held' || cancelRequested) {
          throw ApplicationFailure.create({
            type: ErrorCode.InvalidState,
            message: `reservation is ${status}`,
            nonRetryable: true,
          });
        }
      },
    },
  );

  let reason: ReleaseReason;
  try {
    // The durable hold timer: it lives in Temporal's history, so restarts neither shorten nor lose it.
    const holdMs = input.expiresAtMs - Date.now();
    const cancelled = holdMs > 0 ? await condition(() => cancelRequested, holdMs) : cancelRequested;
    reason = cancelled ? 'cancelled' : 'expired';
  } catch (error) {
    // Support staff cancelling the workflow (Web UI or CLI) cancels the reservation.
    if (!isCancellation(error)) throw error;
    reason = 'cancelled';
  }

  const release = await CancellationScope.nonCancellable(() => releaseUnit({ reservationId: input.reservationId, reason }));
  setStatus(release.status);
  return release.released ? { status, releasedAs: reason } : { status };
}
