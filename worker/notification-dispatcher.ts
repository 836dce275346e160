import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { composeNoticeEmail } from '../notifications/emails';
import type { Notifier } from '../notifications/notifier';
import {
  enqueueHoldReminders,
  enqueueSoldOutNotices,
  enqueueWaitlistOffers,
  forgetDispatched,
  hasWaitingRooms,
  leaseDueNotifications,
  markDispatchedDropped,
  markDispatchedSent,
  markDispatchFailed,
  scheduleDispatchRetry,
  type DueNotification,
} from '../db/queries/due-notifications';
import type { WorkerMetrics } from './worker-metrics';

export interface NotificationDispatcherOptions {
  pool: Pool;
  notifier: Notifier;
  logger: Logger;
  metrics?: Pick<WorkerMetrics, 'notificationsSent' | 'notificationSendErrors' | 'notificationsFailed'>;
  /** Pause between passes. */
  intervalMs?: number;
  /** A hold is reminded this long before it ends. */
  reminderLeadSeconds?: number;
  /** How long a dispatcher owns a notice it is sending; longer than one SMTP send may take (notifications/notifier.ts's SMTP timeouts). */
  leaseSeconds?: number;
  /** Attempts per notice before it is `failed`. */
  maxAttempts?: number;
  /** The first retry waits this long, each next one twice as long (at most 5 minutes). */
  retryBaseSeconds?: number;
  batchSize?: number;
}

export interface NotificationDispatcher {
  /** Resolves after the pass in flight is finished. */
  stop(): Promise<void>;
  /** Whether the sold-out kind runs (the waiting room's tables exist). */
  readonly waitingRooms: boolean;
}

/*
 * Sends the notices no workflow sends: a reminder before a hold ends, a waitlist offer, "sold out"
 * to shoppers still queued. Each pass (every second by default) inserts the notices that became
 * due, once per (subject, kind) across every worker (migrations/0007), then leases due rows with
 * FOR UPDATE SKIP LOCKED, sends each through the notifier and records the result, each step its own
 * short statement: no transaction stays open across an SMTP call. A failed send is retried with
 * exponential backoff; after `maxAttempts` the row is `failed`, logged at error and counted in
 * `notifications_failed_total`. A send whose acknowledgement is lost (the process dies after the
 * SMTP server took it) is sent again when the lease lapses, with the same Message-ID.
 */
export async function startNotificationDispatcher(options: NotificationDispatcherOptions): Promise<NotificationDispatcher> {
  const { pool, notifier, logger, metrics } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const leadSeconds = options.reminderLeadSeconds ?? 60;
  const leaseSeconds = options.leaseSeconds ?? 30;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryBaseSeconds = options.retryBaseSeconds ?? 5;
  const batchSize = options.batchSize ?? 50;
  const waitingRooms = await hasWaitingRooms(pool);
  let stopped = false;
  let wake: () => void = () => undefined;

  async function deliver(notice: DueNotification): Promise<void> {
    if (
      notice.kind === 'hold-reminder' &&
      notice.expiresAt &&
      notice.expiresAt.getTime() - notice.now.getTime() > (leadSeconds + 5) * 1_000
    ) {
      // Support extended the hold after the reminder became due: it is due again a minute before the new end.
      await forgetDispatched(pool, notice.id);
      return;
    }
    const stale = staleReason(notice);
    if (stale) {
      await markDispatchedDropped(pool, notice.id, stale);
      logger.debug({ key: `${notice.subject}:${notice.kind}`, reason: stale }, 'notice dropped');
      return;
    }
    const email = composeNoticeEmail(notice.kind, {
      saleName: notice.saleName,
      amountCents: notice.amountCents,
      currency: notice.currency,
      ...(notice.unitId !== null && { unitId: notice.unitId }),
      ...(notice.expiresAt && { expiresAt: notice.expiresAt }),
    });
    const key = `${notice.subject}:${notice.kind}`;
    try {
      await notifier.send({ key, shopperId: notice.shopperId, ...email });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      metrics?.notificationSendErrors.inc({ kind: notice.kind });
      if (notice.attempts >= maxAttempts) {
        await markDispatchFailed(pool, notice.id, message);
        metrics?.notificationsFailed.inc({ kind: notice.kind });
        logger.error({ key, attempts: notice.attempts, err: error }, 'notice failed for good; not retried');
      } else {
        const delay = Math.min(300, retryBaseSeconds * 2 ** (notice.attempts - 1));
        await scheduleDispatchRetry(pool, notice.id, delay, message);
        logger.warn({ key, attempts: notice.attempts, retryInSeconds: delay, err: error }, 'notice send failed; retrying');
      }
      return;
    }
    await markDispatchedSent(pool, notice.id);
    metrics?.notificationsSent.inc({ kind: notice.kind });
  }

  async function pass(): Promise<number> {
    await enqueueHoldReminders(pool, leadSeconds, batchSize);
    await enqueueWaitlistOffers(pool, batchSize);
    if (waitingRooms) await enqueueSoldOutNotices(pool, 24, batchSize);
    const due = await leaseDueNotifications(pool, batchSize, leaseSeconds);
    // A few sends at once: one slow SMTP answer does not hold up the batch.
    let next = 0;
    const lane = async () => {
      while (next < due.length) {
        const notice = due[next++]!;
        // One notice's database error leaves it leased; the next lease after it lapses retries it.
        await deliver(notice).catch((error: unknown) => logger.warn({ err: error, id: notice.id }, 'notice not recorded'));
      }
    };
    await Promise.all(Array.from({ length: Math.min(4, due.length) }, lane));
    return due.length;
  }

  const loop = (async () => {
    while (!stopped) {
      let busy = false;
      try {
        busy = (await pass()) === batchSize;
      } catch (error) {
        logger.warn({ err: error }, 'notification pass failed; retrying');
      }
      if (!busy && !stopped) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, intervalMs)));
    }
  })();

  return {
    waitingRooms,
    async stop() {
      stopped = true;
      wake();
      await loop;
    },
  };
}

/** Why a notice is no longer worth sending, judged by the database's clock at lease time. */
function staleReason(notice: DueNotification): string | undefined {
  if (notice.kind === 'sold-out') return undefined;
  if (notice.reservationStatus !== 'held') return `reservation is ${notice.reservationStatus ?? 'gone'}`;
  if (!notice.expiresAt || notice.expiresAt <= notice.now) return 'hold has ended';
  return undefined;
}
