import { heartbeat } from '@temporalio/activity';
import type { Pool } from 'pg';
import {
  markSoldOutRoomsForPurge,
  purgeFinishedNotices,
  purgePowJoinCounts,
  purgeQueueTickets,
  purgeWebhookEvents,
} from '../db/queries/retention-purge';
import type { PurgeStep, RetentionPeriods, RetentionTarget } from '../domain/retention';

/** Batches in one activity call; the workflow calls again while rows are left. */
const BATCHES_PER_CALL = 20;

export interface RetentionDeps {
  pool: Pool;
  /** Called with the rows each batch deleted (the worker counts them, retention_purged_rows_total). */
  onPurged?: (target: RetentionTarget, rows: number) => void;
}

/** The purge's one activity (workflows/retention-purge-workflow.ts). Idempotent: it deletes what is old, whatever ran before. */
export function createRetentionActivities({ pool, onPurged }: RetentionDeps) {
  const batchOf = (target: RetentionTarget, periods: RetentionPeriods, limit: number): Promise<number> => {
    switch (target) {
      case 'queue-tickets':
        return purgeQueueTickets(pool, limit);
      case 'pow-join-counts':
        return purgePowJoinCounts(pool, limit);
      case 'webhook-events':
        return purgeWebhookEvents(pool, periods.webhookEventDays, limit);
      case 'notices':
        return purgeFinishedNotices(pool, periods.noticeDays, limit);
    }
  };
  return {
    /** Deletes `target`'s expired rows, `batchSize` per statement, for up to BATCHES_PER_CALL statements. */
    async purgeExpiredRows({
      target,
      periods,
      batchSize,
    }: {
      target: RetentionTarget;
      periods: RetentionPeriods;
      batchSize: number;
    }): Promise<PurgeStep> {
      if (target === 'queue-tickets') await markSoldOutRoomsForPurge(pool, periods.queueDaysAfterSoldOut, batchSize);
      let deleted = 0;
      for (let batch = 0; batch < BATCHES_PER_CALL; batch++) {
        const rows = await batchOf(target, periods, batchSize);
        deleted += rows;
        if (rows > 0) onPurged?.(target, rows);
        heartbeat(deleted);
        if (rows < batchSize) return { deleted, done: true };
      }
      return { deleted, done: false };
    },
  };
}
