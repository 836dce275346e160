import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import pino from 'pino';
import { createReservationWorkflows } from '../clients/reservation-workflows';
import { temporalConnectionPlan } from '../clients/temporal-connection';
import { createPool } from '../db/pool';
import { loadWorkerConfig } from './config';
import { createReservationWorker, paymentGateways } from './create-worker';
import { fileNotifier, smtpNotifier } from '../notifications/notifier';
import { hasWaitingRooms } from '../db/queries/due-notifications';
import { startNotificationDispatcher } from './notification-dispatcher';
import { startOutboxRelay } from './outbox-relay';
import { startAdmissionRelay } from './admission-relay';
import { ensureRetentionSchedule } from './retention-schedule';
import { createWorkerMetrics, serveWorkerMetrics } from './worker-metrics';
import { bundleWorkflowsInChildProcess } from './prebuilt-bundle';
import type { CrashPointHook } from '../domain/crash-points';

export interface WorkerHooks {
  /** Test harness only (test/helpers/entries/worker-with-crash-points.ts). */
  onCrashPoint?: CrashPointHook;
}

/**
 * Loads the configuration from `env`, runs the outbox relay, the notification dispatcher, the
 * metrics endpoint and the worker until SIGTERM or SIGINT.
 */
export async function runWorker(env: NodeJS.ProcessEnv, hooks: WorkerHooks = {}): Promise<void> {
  const config = loadWorkerConfig(env);
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'worker' } });
  if (config.WORKER_METRICS_ADDRESS) {
    // Must precede the first connection: the runtime is created once, with its telemetry.
    Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: config.WORKER_METRICS_ADDRESS } } } });
  }
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    max: config.PG_POOL_MAX,
    applicationName: 'flash-sale-worker',
    statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
    logger,
  });
  const waitingRooms = await hasWaitingRooms(pool);
  const metrics = createWorkerMetrics(pool, { waitingRooms: () => waitingRooms });
  const metricsServer = config.WORKER_APP_METRICS_ADDRESS
    ? await serveWorkerMetrics(metrics.registry, config.WORKER_APP_METRICS_ADDRESS)
    : undefined;
  if (metricsServer) logger.info({ port: metricsServer.port }, 'worker metrics served');
  const temporal = temporalConnectionPlan(config);
  const nativeConnection = await NativeConnection.connect(temporal.connection);
  const clientConnection = await Connection.connect(temporal.connection);
  const client = new Client({
    connection: clientConnection,
    namespace: temporal.namespace,
    dataConverter: temporal.dataConverter,
  });

  const relay = startOutboxRelay({
    pool,
    workflows: createReservationWorkflows(client, config.TEMPORAL_TASK_QUEUE),
    logger: logger.child({ component: 'outbox-relay' }),
    leaseSeconds: config.OUTBOX_LEASE_SECONDS,
    onCrashPoint: hooks.onCrashPoint,
    onStarted: (seconds) => metrics.workflowStartLatency.observe(seconds),
    onGivenUp: (reason) => metrics.workflowStartsGivenUp.inc({ reason }),
  });
  // One notifier for every notice: the workflows' outcomes and the dispatcher's reminders, offers and sold-outs.
  const notifier = config.SMTP_URL
    ? smtpNotifier({ smtpUrl: config.SMTP_URL, from: config.NOTIFY_EMAIL_FROM, shopperDomain: config.NOTIFY_EMAIL_DOMAIN })
    : fileNotifier(config.NOTIFICATIONS_FILE);
  const dispatcher = await startNotificationDispatcher({
    pool,
    notifier,
    logger: logger.child({ component: 'notification-dispatcher' }),
    metrics,
    leaseSeconds: config.NOTIFY_LEASE_SECONDS,
    maxAttempts: config.NOTIFY_MAX_ATTEMPTS,
    retryBaseSeconds: config.NOTIFY_RETRY_BASE_SECONDS,
  });
  const admissionRelay = startAdmissionRelay({
    pool,
    client,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    logger: logger.child({ component: 'admission-relay' }),
  });
  try {
    const worker = await createReservationWorker({
      connection: nativeConnection,
      namespace: temporal.namespace,
      dataConverter: temporal.dataConverter,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      pool,
      gateways: paymentGateways({
        primaryUrl: config.PSP_URL,
        secondaryUrl: config.PSP_SECONDARY_URL,
        timeoutMs: config.PSP_TIMEOUT_MS,
      }),
      notifier,
      noticeLeaseSeconds: config.NOTIFY_LEASE_SECONDS,
      onNoticeSent: (kind) => metrics.notificationsSent.inc({ kind }),
      onNoticeFailed: (kind) => metrics.notificationsFailed.inc({ kind }),
      onRowsPurged: (target, rows) => metrics.rowsPurged.inc({ target }, rows),
      maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      activityInterceptors: [metrics.activityInterceptor],
      workflowBundle: { codePath: config.WORKFLOW_BUNDLE_PATH ?? (await bundleWorkflowsInChildProcess()) },
      onCrashPoint: hooks.onCrashPoint,
    });
    const retentionSchedule = await ensureRetentionSchedule(client, {
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      everyMinutes: config.RETENTION_PURGE_EVERY_MINUTES,
      input: {
        periods: {
          queueDaysAfterSoldOut: config.RETENTION_QUEUE_DAYS,
          webhookEventDays: config.RETENTION_WEBHOOK_EVENTS_DAYS,
          noticeDays: config.RETENTION_NOTICES_DAYS,
        },
        batchSize: config.RETENTION_BATCH_SIZE,
      },
    });
    logger.info({ scheduleId: retentionSchedule }, 'retention schedule in place');
    logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'worker running');
    // The SDK's default shutdown signals (SIGINT, SIGTERM) make run() drain and resolve.
    await worker.run();
  } finally {
    await Promise.all([relay.stop(), admissionRelay.stop(), dispatcher.stop()]);
    await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
    await Promise.allSettled([nativeConnection.close(), clientConnection.close()]);
    await pool.end();
  }
}
