/*
 * Phase e (worker half): the worker's resident memory while it holds many open reservation
 * workflows. The API half is sampled during the crowd (crowd.ts).
 */
import { Pool } from 'pg';
import { createBenchSale } from './sales';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { cpuSeconds, httpClient, mintShopperToken, pollUntil, rssMb, sleep } from './util';

export interface WorkerMemoryResult {
  workflows: number;
  /** Reservations of the sale whose workflow the relay has started. */
  started: number;
  claimErrors: number;
  secondsToStartAll: number;
  idle: boolean;
  workerRssMb: number | null;
  apiRssMb: number | null;
  /** Both processes right after start, before any load. */
  idleRssMb: { api: number | null; worker: number | null };
}

/** Waits until the outbox relay has started a workflow for every reservation; returns whether it did. */
export async function waitForOutboxDrained(databaseUrl: string, timeoutMs: number): Promise<boolean> {
  const db = new Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const pending = async () =>
      (await db.query<{ n: number }>('select count(*)::int as n from reservations where workflow_started_at is null')).rows[0]!.n;
    return (await pollUntil(pending, (n) => n === 0, timeoutMs, 500)).ok;
  } finally {
    await db.end();
  }
}

/** Waits until the process used under 5% of a core for two 1-second windows in a row. */
async function waitForIdle(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (Date.now() < deadline) {
    const before = cpuSeconds(pid);
    await sleep(1_000);
    quiet = cpuSeconds(pid) - before < 0.05 ? quiet + 1 : 0;
    if (quiet >= 2) return true;
  }
  return false;
}

export async function benchWorkerMemory(
  stack: BenchStack,
  options: { workflows: number; say: (message: string) => void },
): Promise<WorkerMemoryResult> {
  const { apiUrl, api, worker, idleRssMb } = await stack.services();
  const client = httpClient(apiUrl, 64);
  const db = new Pool({ connectionString: stack.databaseUrl, max: 1 });
  try {
    const sale = await createBenchSale(client, { units: options.workflows, holdSeconds: 3_600 });
    options.say(`${options.workflows} shoppers claim a unit each (hold 1 h)`);
    const started = performance.now();
    let next = 0;
    let claimErrors = 0;
    const lane = async () => {
      while (next < options.workflows) {
        const i = next++;
        const token = await mintShopperToken(BENCH_SECRETS.JWT_SECRET, `memory-${sale.id}-${i}`);
        const answer = await client.post(`/v1/sales/${sale.id}/reservations`, { token }).catch(() => undefined);
        if (answer?.status !== 201) claimErrors++;
      }
    };
    await Promise.all(Array.from({ length: 64 }, lane));

    options.say('waiting for the outbox relay to start every workflow');
    const drained = await waitForOutboxDrained(stack.databaseUrl, Math.max(120_000, options.workflows * 40));
    const secondsToStartAll = Math.round((performance.now() - started) / 100) / 10;
    if (!drained) options.say('the relay did not start every workflow in time; measuring anyway');
    options.say('waiting for the worker to go idle');
    const idle = await waitForIdle(worker.pid()!, 60_000);
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const mb = rssMb(worker.pid());
      if (mb !== null) samples.push(mb);
      await sleep(200);
    }
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from reservations where sale_id = $1::uuid and status = 'held' and workflow_started_at is not null`,
      [sale.id],
    );
    return {
      workflows: options.workflows,
      started: rows[0]!.n,
      claimErrors,
      secondsToStartAll,
      idle,
      workerRssMb: samples.length ? Math.max(...samples) : null,
      apiRssMb: rssMb(api.pid()),
      idleRssMb,
    };
  } finally {
    await client.close();
    await db.end();
  }
}
