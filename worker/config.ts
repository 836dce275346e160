import { z } from 'zod';
import { databaseEnv, logEnv, parseEnv, temporalEnv } from '../config/common';

const workerEnv = databaseEnv
  .merge(temporalEnv)
  .merge(logEnv)
  .extend({
    /** The primary payment gateway (the simulator in development). */
    PSP_URL: z.string().url().default('http://127.0.0.1:4000'),
    /** Optional secondary gateway, used only when the primary refuses every connection for a charge. */
    PSP_SECONDARY_URL: z.string().url().optional(),
    /** One HTTP call to a gateway; below the charge activity's 5 s attempt timeout. */
    PSP_TIMEOUT_MS: z.coerce.number().int().positive().default(4_000),
    /** How long the outbox relay owns a batch; a relay that dies loses its rows to another after this. */
    OUTBOX_LEASE_SECONDS: z.coerce.number().int().positive().default(30),
    /** Where the development notifier writes outcome notifications (JSON lines). */
    NOTIFICATIONS_FILE: z.string().default('.data/notifications.jsonl'),
  });

export type WorkerConfig = ReturnType<typeof loadWorkerConfig>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv) {
  return parseEnv(workerEnv, env);
}
