import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../../activities';
import type { Notifier } from '../../notifications/notifier';
import { paymentGateways } from '../../worker/create-worker';
import { startPsp, type RunningPsp } from '../psp/psp-process';
import { testDataConverter } from './temporal-client';
import { testInfra } from './infra-env';
import { workflowBundle } from './workflow-env';

export interface PaymentSagaRig {
  pool: Pool;
  psp: RunningPsp;
  env: TestWorkflowEnvironment;
  stop(): Promise<void>;
}

/**
 * The payment saga with real activities, a real payment provider process and the test run's
 * Temporal server: a worker on `taskQueue` runs until `stop()`.
 */
export async function startPaymentSagaRig(options: {
  taskQueue: string;
  poolMax: number;
  notifier: Notifier;
  pspEnv?: NodeJS.ProcessEnv;
}): Promise<PaymentSagaRig> {
  const pool = new Pool({ connectionString: testInfra().databaseUrl, max: options.poolMax });
  const psp = await startPsp(options.pspEnv);
  const env = await TestWorkflowEnvironment.createFromExistingServer({
    address: testInfra().temporalAddress,
    client: { dataConverter: testDataConverter() },
  });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    dataConverter: testDataConverter(),
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      pool,
      gateways: paymentGateways({ primaryUrl: psp.url, timeoutMs: 4_000 }),
      notifier: options.notifier,
    }),
  });
  const running = worker.run();
  return {
    pool,
    psp,
    env,
    async stop() {
      worker.shutdown();
      await running;
      await env.teardown();
      await psp.stop();
      await pool.end();
    },
  };
}

/**
 * A rig for one test file: started in the file's `beforeAll`, stopped in its `afterAll`. The
 * returned object's fields are filled in by that `beforeAll`, so read them in tests and hooks,
 * not when the file loads.
 */
export function paymentSagaRigForFile(options: Parameters<typeof startPaymentSagaRig>[0]): PaymentSagaRig {
  const rig = {} as PaymentSagaRig;
  beforeAll(async () => {
    Object.assign(rig, await startPaymentSagaRig(options));
  });
  afterAll(async () => {
    await rig.stop?.();
  });
  return rig;
}
