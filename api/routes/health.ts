import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import type { Metrics } from '../metrics';

export interface HealthRouteDeps {
  pool: Pool;
  temporal: Client;
  metrics: Metrics;
}

const CHECK_TIMEOUT_MS = 2_000;

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

export function healthRouter(deps: HealthRouteDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    const [postgres, temporal] = await Promise.all([
      check(() => deps.pool.query('select 1')),
      check(() => deps.temporal.workflowService.getSystemInfo({})),
    ]);
    const ready = postgres === 'up' && temporal === 'up';
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not-ready', checks: { postgres, temporal } });
  });

  router.get('/metrics', async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  return router;
}
