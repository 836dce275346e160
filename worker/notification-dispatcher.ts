import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { recordAfterSend } from '../db/record-after-send';
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
  renewDispatchLease,
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
  /** How long a dispatcher owns the notice it is sending; renewed every third of it while the send lasts. */
  leaseSeconds?: number;
  /** Attempts per notice before it is `failed`. */
  maxAttempts?: number;
  /** The first retry waits this long, each next one twice as long (at most 5 minutes). */
  retryBaseSeconds?: number;
  /** Notices per pass at most. */
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
 * due, once per (subject, kind) across every worker (migrations/0007), then sends them in four
 * lanes. A lane leases one due row at a time (FOR UPDATE SKIP LOCKED), right before its send, so a
 * lease never waits behind other sends; it renews the lease while the SMTP server takes its time
 * and records the result under the lease's attempt number (db/queries/due-notifications.ts): a
 * dispatcher that lost a lease cannot mark, retry or release a notice another one now owns. Each
 * step is its own short statement: no transaction stays open across an SMTP call. A failed send
 * is retried with exponential backoff; after `maxAttempts` the row is `failed`, logged at error
 * and counted in `notifications_failed_total`. Marking a notice sent is retried through a short
 * database outage (db/record-after-send.ts); a send whose record is lost all the same (the process
 * dies after the SMTP server took it) is sent again when the lease lapses, with the same
 * Message-ID.
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
      await forgetDispatched(pool, notice);
      return;
    }
    const stale = staleReason(notice);
    if (stale) {
      await markDispatchedDropped(pool, notice, stale);
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
      await whileLeased(notice, () => notifier.send({ key, shopperId: notice.shopperId, ...email }));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      metrics?.notificationSendErrors.inc({ kind: notice.kind });
      if (notice.attempts >= maxAttempts) {
        await markDispatchFailed(pool, notice, message);
        metrics?.notificationsFailed.inc({ kind: notice.kind });
        logger.error({ key, attempts: notice.attempts, err: error }, 'notice failed for good; not retried');
      } else {
        const delay = Math.min(300, retryBaseSeconds * 2 ** (notice.attempts - 1));
        await scheduleDispatchRetry(pool, notice, delay, message);
        logger.warn({ key, attempts: notice.attempts, retryInSeconds: delay, err: error }, 'notice send failed; retrying');
      }
      return;
    }
    if (!(await recordAfterSend.execute(() => markDispatchedSent(pool, notice))))
      logger.warn({ key, attempts: notice.attempts }, 'notice sent after its lease was lost; another dispatcher may send it too');
    metrics?.notificationsSent.inc({ kind: notice.kind });
  }

  /** Runs `send` while renewing the notice's lease every third of it. */
  async function whileLeased<T>(notice: DueNotification, send: () => Promise<T>): Promise<T> {
    const renew = () =>
      renewDispatchLease(pool, notice, leaseSeconds).then(
        (held) => held || logger.warn({ id: notice.id, attempts: notice.attempts }, 'notice lease lost during its send'),
        (error: unknown) => logger.warn({ err: error, id: notice.id }, 'notice lease not renewed'),
      );
    const timer = setInterval(() => void renew(), (leaseSeconds * 1_000) / 3);
    try {
      return await send();
    } finally {
      clearInterval(timer);
    }
  }

  async function pass(): Promise<number> {
    await enqueueHoldReminders(pool, leadSeconds, batchSize);
    await enqueueWaitlistOffers(pool, batchSize);
    if (waitingRooms) await enqueueSoldOutNotices(pool, 24, batchSize);
    // A few sends at once, each lane leasing only the notice it sends next: one slow SMTP answer
    // neither holds up the others nor lets their leases lapse unsent.
    let taken = 0;
    const lane = async () => {
      while (!stopped && taken < batchSize) {
        taken++;
        const [notice] = await leaseDueNotifications(pool, 1, leaseSeconds);
        if (!notice) {
          taken--;
          return;
        }
        // One notice's database error leaves it leased; the next lease after it lapses retries it.
        await deliver(notice).catch((error: unknown) => logger.warn({ err: error, id: notice.id }, 'notice not recorded'));
      }
    };
    // Every lane ends before the pass does, so stop() finds no send in flight.
    const lanes = await Promise.allSettled(Array.from({ length: 4 }, lane));
    const failed = lanes.find((l) => l.status === 'rejected');
    if (failed) throw failed.reason;
    return taken;
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
