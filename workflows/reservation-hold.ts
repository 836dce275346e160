import { condition, isCancellation, sleep } from '@temporalio/workflow';
import type { ReservationState } from './reservation-state';

/**
 * The hold: waits until the shopper pays, a cancel is requested, or the hold ends. Resolves
 * `cancelled: true` when support cancelled the workflow itself (Web UI or CLI) meanwhile, which
 * cancels a reservation still on hold.
 *
 * The durable hold timer lives in Temporal's history, so restarts neither shorten nor lose it.
 * It is never cancelled by a payment or a cancel update (that would cost a `TimerCanceled`
 * event): it is left running when the reservation ends first. An extension moves the deadline;
 * the timer already running is left to fire and then waits again for the rest.
 */
export async function awaitHold(state: ReservationState): Promise<{ cancelled: boolean }> {
  void (async () => {
    for (;;) {
      const waitingFor = state.deadlineMs;
      const holdMs = waitingFor - Date.now();
      if (holdMs > 0) await sleep(holdMs);
      if (state.deadlineMs === waitingFor) break;
    }
    state.holdEnded = true;
  })().catch(() => undefined); // rejected only by a workflow cancellation, which the wait below sees too

  try {
    await condition(() => state.holdEnded || state.cancelRequested || state.paymentMethod !== undefined);
    return { cancelled: false };
  } catch (error) {
    if (!isCancellation(error)) throw error;
    return { cancelled: true };
  }
}
