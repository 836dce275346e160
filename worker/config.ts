import { z } from 'zod';
import { databaseEnv, logEnv, parseEnv, temporalEnv } from '../config/common';

export const workerEnv = databaseEnv
  .merge(temporalEnv)
  .merge(logEnv)
  .extend({
    /** The primary payment gateway (the simulator in development). */
    PSP_URL: z.string().url().default('http://127.0.0.1:4000'),
    /** Optional secondary gateway: charges move there when the primary fails (activities/charge.ts). */
    PSP_SECONDARY_URL: z.string().url().optional(),
    /** One HTTP call to a gateway; below the charge activity's 5 s attempt timeout. */
    PSP_TIMEOUT_MS: z.coerce.number().int().positive().default(4_000),
    /** How long the outbox relay owns a batch; a relay that dies loses its rows to another after this. */
    OUTBOX_LEASE_SECONDS: z.coerce.number().int().positive().default(30),
    /**
     * Workflows kept in the worker's memory between tasks. A held reservation sleeps on its timer
     * for minutes; beyond this many, the least recently used are evicted and replayed from history
     * when they wake (5,000 cached workflows took 1.2 GB: `npm run bench -- --only memory`,
     * docs/PERFORMANCE.md).
     */
    WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).default(250),
    /** Where the development notifier writes outcome notifications (JSON lines). */
    NOTIFICATIONS_FILE: z.string().default('.data/notifications.jsonl'),
    /** When set, outcome notices go by e-mail through this SMTP server instead of to the file. */
    SMTP_URL: z.string().url().optional(),
    /** The sender of outcome e-mails. */
    NOTIFY_EMAIL_FROM: z.string().default('Flash sale <orders@flash-sale.invalid>'),
    /** Shoppers are known only by their token's `sub`; they are mailed at `<sub, encoded>@<this domain>` (notifications/notifier.ts `shopperAddress`). */
    NOTIFY_EMAIL_DOMAIN: z.string().default('shoppers.invalid'),
    /** How long a worker owns a notice it is sending; above the notify activity's 10 s attempt timeout. */
    NOTIFY_LEASE_SECONDS: z.coerce.number().int().min(11).default(30),
    /** Attempts of a dispatched notice (reminder, waitlist offer, sold out) before it is marked `failed`. */
    NOTIFY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    /** The first retry of a dispatched notice waits this long, each next one twice as long (at most 300 s). */
    NOTIFY_RETRY_BASE_SECONDS: z.coerce.number().positive().max(300).default(5),
    /** How often the retention purge's schedule runs it (worker/retention-schedule.ts). */
    RETENTION_PURGE_EVERY_MINUTES: z.coerce.number().int().min(1).max(1_440).default(60),
    /** Queue tickets (and the proof-of-work challenges they spent) are deleted this many days after their waiting room sold out. */
    RETENTION_QUEUE_DAYS: z.coerce.number().int().min(1).default(7),
    /** Webhook deliveries are kept this many days for deduplication (the provider redelivers until answered 2xx). */
    RETENTION_WEBHOOK_EVENTS_DAYS: z.coerce.number().int().min(1).default(30),
    /**
     * Finished notices (sent, failed, dropped) are deleted this many days after they finished; at
     * least 2, above the dispatcher's 24 h look-back for sold-out notices, so none is sent twice.
     */
    RETENTION_NOTICES_DAYS: z.coerce.number().int().min(2).default(30),
    /** Rows per delete statement of the retention purge. */
    RETENTION_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    /**
     * `host:port` where the worker serves its own Prometheus metrics (`/metrics`: relay lag,
     * activity failures by type, notifications, waiting-room queues); unset = no endpoint.
     */
    WORKER_APP_METRICS_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
      .optional(),
    /**
     * `host:port` where the Temporal SDK serves the worker's Prometheus metrics (`/metrics`);
     * unset = no metrics endpoint.
     */
    WORKER_METRICS_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'host:port')
      .optional(),
    /**
     * A workflow bundle built ahead of time (`worker/bundle-workflows.ts`, as the container image
     * does); unset = bundle the workflows at start.
     */
    WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  });

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv) {
  return parseEnv(workerEnv, env);
}
