/**
 * The retention purge (docs/OPERATIONS.md, "Retention"): what it deletes and for how long each is
 * kept. Pure TypeScript, shared by the worker that creates the schedule, the purge workflow and
 * its activity.
 */

/** What one purge call deletes: queue tickets of long sold-out rooms, stale join counts, old webhook deliveries, finished notices. */
export type RetentionTarget = 'queue-tickets' | 'pow-join-counts' | 'webhook-events' | 'notices';

export const RETENTION_TARGETS: readonly RetentionTarget[] = ['queue-tickets', 'pow-join-counts', 'webhook-events', 'notices'];

/** The periods, in days (the worker's RETENTION_* settings), carried by the schedule's action. */
export interface RetentionPeriods {
  /** Queue tickets are deleted this long after their waiting room sold out. */
  queueDaysAfterSoldOut: number;
  webhookEventDays: number;
  noticeDays: number;
}

export interface RetentionPurgeInput {
  periods: RetentionPeriods;
  /** Rows per delete statement. */
  batchSize: number;
}

export type RetentionPurgeResult = Record<RetentionTarget, number>;

/** One activity call: rows deleted, and whether nothing is left to delete. */
export interface PurgeStep {
  deleted: number;
  done: boolean;
}

/** One schedule per task queue: the workers of a queue share its database, and purge it. */
export const retentionScheduleId = (taskQueue: string) => `retention-purge-${taskQueue}`;

/**
 * How long Temporal keeps a closed workflow's history (the namespace's retention; the histories
 * carry shopper ids). Set by every launcher: scripts/stack/temporal-server.ts,
 * scripts/stack/temporal-cluster.ts and deploy/temporal/setup-namespace.sh (which says 72h itself).
 */
export const WORKFLOW_HISTORY_RETENTION_HOURS = 72;
