import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  RETENTION_TARGETS,
  type RetentionPurgeInput,
  type RetentionPurgeResult,
  type RetentionTarget,
} from '../domain/retention';

/*
 * A call deletes up to 20 batches (seconds of work) and heartbeats after each. Three attempts,
 * then the target is given up for this run: the run fails, visibly (its status in the schedule's
 * recent actions and the Web UI, worker_activity_failures_total), and the schedule's next run tries
 * again. No retry goes on forever.
 */
const purging = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 3 },
});

/** Calls per target and run; what is left waits for the next run. */
export const PURGE_CALLS_PER_TARGET = 50;

/**
 * `retention-purge-<task queue>`, started by its schedule (worker/retention-schedule.ts): deletes
 * what has outlived its retention period, target by target, and answers how many rows of each.
 */
export async function retentionPurgeWorkflow(input: RetentionPurgeInput): Promise<RetentionPurgeResult> {
  const purged: RetentionPurgeResult = { 'queue-tickets': 0, 'pow-join-counts': 0, 'webhook-events': 0, notices: 0 };
  const failed: RetentionTarget[] = [];
  for (const target of RETENTION_TARGETS) {
    try {
      for (let call = 0; call < PURGE_CALLS_PER_TARGET; call++) {
        const step = await purging.purgeExpiredRows({ target, periods: input.periods, batchSize: input.batchSize });
        purged[target] += step.deleted;
        if (step.done) break;
      }
    } catch (error) {
      log.error('retention purge failed', { target, error: String(error) });
      failed.push(target);
    }
  }
  log.info('retention purge done', { purged, failed });
  if (failed.length > 0) {
    throw ApplicationFailure.nonRetryable(`retention purge failed for ${failed.join(', ')}`, 'RETENTION_PURGE_FAILED', purged);
  }
  return purged;
}
