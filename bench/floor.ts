/*
 * The floor (issue 21, Deliver 2): the minimal workflow of a reservation's shape (start, one
 * update, one activity, complete; bench/floor/workflow.ts) driven in closed loops of
 * `concurrency` at once for `seconds` against the stack's own Temporal server, its worker a
 * process of its own as ours is. Ours is the full phase's claim → pay → paid at the same
 * concurrency on the same server (bench/full.ts); the sale table gives ours ÷ floor.
 */
import { Client, Connection } from '@temporalio/client';
import { serviceProcess } from '../scripts/stack/service-process';
import { cpuMeter, type CpuShares } from './cpu';
import { FLOOR_TASK_QUEUE, FLOOR_WORKFLOW_TYPE, floorPaymentUpdate } from './floor/shared';
import type { BenchStack } from './stack';
import { closedLoopFigures, type LatencySummary } from './util';

export interface FloorResult {
  concurrency: number;
  seconds: number;
  completed: number;
  workflowsPerSecond: number;
  failed: number;
  latencyMs: LatencySummary;
  cpu: CpuShares;
}

export async function benchFloor(
  stack: BenchStack,
  options: { concurrency: number; seconds: number; say: (message: string) => void },
): Promise<FloorResult> {
  let running: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (running = resolve));
  const lines: string[] = [];
  const worker = serviceProcess({
    name: 'floor-worker',
    entry: 'bench/floor/worker.ts',
    env: { ...process.env, TEMPORAL_ADDRESS: stack.temporalAddress },
    onLine: (line) => {
      lines.push(line);
      if (line.includes('floor worker RUNNING')) running();
    },
  });
  worker.start();
  const connection = await Connection.connect({ address: stack.temporalAddress });
  try {
    const exited = worker.exited().then(() => {
      throw new Error(`the floor worker stopped: ${lines.slice(-5).join(' / ')}`);
    });
    await Promise.race([ready, exited]);
    const client = new Client({ connection });
    const run = Date.now().toString(36);
    const once = async (k: number) => {
      const handle = await client.workflow.start(FLOOR_WORKFLOW_TYPE, {
        taskQueue: FLOOR_TASK_QUEUE,
        workflowId: `floor-${run}-${k}`,
      });
      await handle.executeUpdate(floorPaymentUpdate, { args: ['tok_visa'] });
      await handle.result();
    };
    await once(-1); // warm: the worker's first task pays for its sandbox
    options.say(`floor: ${options.concurrency} at once for ${options.seconds} s (start, update, activity, complete)`);
    const pids = await stack.processes();
    const meter = cpuMeter({ temporal: pids.temporal, 'floor worker': worker.pid(), bench: pids.bench });
    const latencies: number[] = [];
    let failed = 0;
    let next = 0;
    const started = performance.now();
    const deadline = started + options.seconds * 1000;
    const lane = async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await once(next++).then(
          () => latencies.push(performance.now() - t),
          () => failed++,
        );
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, lane));
    const cpu = meter.stop();
    const { perSecond, ...figures } = closedLoopFigures(latencies, started);
    return { concurrency: options.concurrency, ...figures, workflowsPerSecond: perSecond, failed, cpu };
  } finally {
    await connection.close();
    await worker.stop();
  }
}
