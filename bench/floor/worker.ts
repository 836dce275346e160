/*
 * The floor workflow's worker, its own process as ours is (bench/floor.ts starts it):
 * TEMPORAL_ADDRESS, the default namespace, task queue `bench-floor`.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from './activities';
import { FLOOR_TASK_QUEUE } from './shared';

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is required');
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue: FLOOR_TASK_QUEUE,
    workflowsPath: require.resolve('./workflow'),
    activities,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => worker.shutdown());
  process.stdout.write('floor worker RUNNING\n');
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`floor worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
