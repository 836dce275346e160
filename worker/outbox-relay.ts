import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { workflowInputOf, WorkflowStartRefusedError, type ReservationWorkflows } from '../clients/reservation-workflows';
import {
  leaseUnstartedReservations,
  markWorkflowsStarted,
  type LeasedReservation,
} from '../db/queries/lease-unstarted-reservations';
import { releaseReservation } from '../db/queries/release-reservation';
import { noCrashPoints, type CrashPointHook } from '../domain/crash-points';

export interface OutboxRelayOptions {
  pool: Pool;
  workflows: ReservationWorkflows;
  logger: Logger;
  batchSize?: number;
  /** Workflow starts in flight at once. */
  concurrency?: number;
  /** Pause between polls while the outbox is empty. */
  idleMs?: number;
  leaseSeconds?: number;
  /** Called for each workflow this relay started, with the seconds since its claim. */
  onStarted?: (secondsSinceClaim: number) => void;
  /** Called for each reservation whose start this relay gave up, releasing its unit. */
  onGivenUp?: (reason: StartGivenUpReason) => void;
  /** Test harness only (test/helpers/entries/): called after a batch's starts, before they are recorded. */
  onCrashPoint?: CrashPointHook;
}

export interface OutboxRelay {
  /** Resolves after the batch in flight is finished. */
  stop(): Promise<void>;
}

/** `refused`: Temporal refused the start for good; `hold_ended`: starts kept failing until the hold was over. */
export type StartGivenUpReason = 'refused' | 'hold_ended';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * Starts the reservation workflows the claims committed. A claim only writes its row; this
 * loop turns rows into workflows at the pace Temporal accepts (about 89 starts/s on the dev
 * server: the `relay` row of `npm run bench -- --only memory`, docs/PERFORMANCE.md), so a crowd
 * is answered at database speed and no unit is ever held without a workflow for longer than the
 * relay's lag.
 *
 * A start that fails is retried when its lease runs out, unless it cannot succeed: Temporal
 * refused it for good (INVALID_ARGUMENT), or it still fails once the hold is over. The relay then
 * asks Temporal whether the workflow exists after all (the API starts it too, on a payment or a
 * cancel) and, if not, gives the unit back through releaseReservation, as the workflow would
 * have: `cancelled` with the refusal recorded, or `expired`. While Temporal cannot answer, nothing
 * is given up.
 */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { pool, workflows, logger } = options;
  const batchSize = options.batchSize ?? 200;
  const concurrency = options.concurrency ?? 64;
  const idleMs = options.idleMs ?? 100;
  const leaseSeconds = options.leaseSeconds ?? 30;
  const onCrashPoint = options.onCrashPoint ?? noCrashPoints;
  let stopped = false;

  /** Returns true when the workflow exists after all (to be marked started); else releases the unit. */
  async function giveUp(reservation: LeasedReservation, refusal: string | undefined, error: unknown): Promise<boolean> {
    if (await workflows.exists(reservation.id)) return true;
    const reason: StartGivenUpReason = refusal === undefined ? 'hold_ended' : 'refused';
    const why = (refusal ?? `the hold ended before a start succeeded; last error: ${String(error)}`).slice(0, 1_000);
    const outcome = await releaseReservation(pool, reservation.id, refusal === undefined ? 'expired' : 'cancelled', why);
    if (outcome.released) {
      options.onGivenUp?.(reason);
      logger.error(
        { reservationId: reservation.id, saleId: reservation.sale_id, reason, refusal: why },
        'workflow start given up; the unit was released',
      );
    }
    return false;
  }

  async function relayBatch(): Promise<number> {
    const batch = await leaseUnstartedReservations(pool, batchSize, leaseSeconds);
    const started: string[] = [];
    const startedSales: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < batch.length && !stopped) {
        const reservation = batch[next++]!;
        try {
          await workflows.start(workflowInputOf(reservation), reservation.sale_name);
          started.push(reservation.id);
          options.onStarted?.((Date.now() - reservation.created_at.getTime()) / 1_000);
          startedSales.push(reservation.sale_id);
        } catch (error) {
          const refusal = error instanceof WorkflowStartRefusedError ? error.reason : undefined;
          if (refusal === undefined && reservation.expires_at.getTime() > Date.now()) {
            // Left leased; retried when the lease runs out.
            logger.warn({ err: error, reservationId: reservation.id }, 'workflow start failed');
            continue;
          }
          try {
            if (await giveUp(reservation, refusal, error)) {
              started.push(reservation.id);
              startedSales.push(reservation.sale_id);
            }
          } catch (giveUpError) {
            logger.warn({ err: giveUpError, startError: error, reservationId: reservation.id }, 'workflow start failed');
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, lane));
    if (started.length > 0) onCrashPoint('after-workflow-start', startedSales);
    await markWorkflowsStarted(pool, started);
    if (started.length > 0) logger.debug({ started: started.length }, 'reservation workflows started');
    return batch.length;
  }

  const loop = (async () => {
    while (!stopped) {
      try {
        const relayed = await relayBatch();
        if (relayed < batchSize) await sleep(idleMs);
      } catch (error) {
        logger.warn({ err: error }, 'outbox relay pass failed; retrying');
        await sleep(1_000);
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
