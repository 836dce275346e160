import { z } from 'zod';
import { parseEnv } from '../../config/common';
import { DEFAULT_HISTORY_SHARDS } from '../temporal-cluster/config';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);
const processCount = z.coerce.number().int().min(1).max(16).default(1);

/**
 * What `npm run dev` reads beyond the processes' own variables (api/config.ts, worker/config.ts,
 * psp-simulator/config.ts): where it starts the embedded services, how many APIs and workers, and which
 * Temporal server. The test run, the bench and chaos read TEMPORAL_SERVER and
 * TEMPORAL_CLUSTER_SHARDS too.
 */
export const launcherEnv = z.object({
  /** Where the development stack keeps Postgres, Temporal and the simulators' state. */
  DEV_DATA_DIR: z.string().min(1).default('.data'),
  /** APIs and workers to start (`--apis N`, `--workers N` win). */
  DEV_APIS: processCount,
  DEV_WORKERS: processCount,
  /** Port of the embedded Postgres (unless DATABASE_URL names a server of your own). */
  PG_PORT: port(5433),
  /** gRPC port of the Temporal server it starts (unless TEMPORAL_ADDRESS names one); a cluster's other ports follow. */
  TEMPORAL_PORT: port(7233),
  /** The Web UI (the dev server's, or the UI server beside the real one). */
  TEMPORAL_UI_PORT: port(8233),
  /** `cluster`: Temporal's own server on Postgres instead of the dev server (docs/TEMPORAL-CLUSTER.md). */
  TEMPORAL_SERVER: z.enum(['dev', 'cluster']).default('dev'),
  /** History shards of a new cluster database; fixed once it exists. */
  TEMPORAL_CLUSTER_SHARDS: z.coerce.number().int().min(1).default(DEFAULT_HISTORY_SHARDS),
  /** Worker i serves the Temporal SDK's metrics on 127.0.0.1:(this + i - 1). */
  WORKER_METRICS_PORT: port(9464),
  /** SMTP and web view of the mail catcher it starts. */
  MAIL_SMTP_PORT: port(1025),
  MAIL_WEB_PORT: port(1080),
  /** `1`: `npm install` and the launchers do not install the pinned Temporal CLI and schemathesis (bring your own cluster). */
  SKIP_TEMPORAL_INSTALL: z.literal('1').optional(),
});

export type LauncherConfig = ReturnType<typeof loadLauncherConfig>;

export function loadLauncherConfig(env: NodeJS.ProcessEnv) {
  return parseEnv(launcherEnv, env);
}
