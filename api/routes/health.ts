import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { Metrics } from '../metrics';

export interface HealthRouteDeps {
  pool: Pool;
  temporal: Client;
  metrics: Metrics;
  /** The task queue whose workers run reservations and admissions; ready needs a poller on it. */
  taskQueue: string;
}

const CHECK_TIMEOUT_MS = 2_000;
// temporal.api.enums.v1.TaskQueueType: a worker polls both kinds of its task queue.
const TASK_QUEUE_TYPES = [1 /* WORKFLOW */, 2 /* ACTIVITY */] as const;
/*
 * A poller is live while it polled within this long. An idle worker renews its long poll about
 * once a minute (the server answers an empty poll after ~60 s), so this is that plus slack; a
 * worker killed outright still counts for up to this long.
 */
const POLLER_FRESH_MS = 90_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref()),
  ]);
}

async function check(probe: () => Promise<unknown>): Promise<string> {
  try {
    await withTimeout(probe(), CHECK_TIMEOUT_MS);
    return 'up';
  } catch {
    return 'down';
  }
}

/** Resolves when some worker polls both the workflow and the activity side of `taskQueue`; rejects otherwise. */
async function workersPolling(temporal: Client, taskQueue: string): Promise<void> {
  const answers = await Promise.all(
    TASK_QUEUE_TYPES.map((taskQueueType) =>
      temporal.workflowService.describeTaskQueue({
        namespace: temporal.options.namespace,
        taskQueue: { name: taskQueue },
        taskQueueType,
      }),
    ),
  );
  const now = Date.now();
  const polledAtMs = (seconds: number | { toNumber(): number } | null | undefined) =>
    (typeof seconds === 'number' ? seconds : (seconds?.toNumber() ?? 0)) * 1000;
  const live = answers.every(({ pollers }) =>
    pollers.some((poller) => now - polledAtMs(poller.lastAccessTime?.seconds) < POLLER_FRESH_MS),
  );
  if (!live) throw new Error(`no worker polls ${taskQueue}`);
}

export function healthRouter(deps: HealthRouteDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const [postgres, temporal, workers] = await Promise.all([
      check(() => deps.pool.query('select 1')),
      check(() => deps.temporal.workflowService.getSystemInfo({})),
      check(() => workersPolling(deps.temporal, deps.taskQueue)),
    ]);
    const ready = postgres === 'up' && temporal === 'up' && workers === 'up';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: { postgres, temporal, workers } });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
