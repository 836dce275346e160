import { randomUUID } from 'node:crypto';
import { freePort } from '../../scripts/stack/free-port';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { testInfra } from './infra-env';

export const TEST_SECRETS = {
  JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
  ADMIN_TOKEN: 'test-admin-token-0123',
  WEBHOOK_SECRET: 'test-webhook-secret',
};

export interface AppUnderTest {
  apiUrl: string;
  api: ServiceProcess;
  worker: ServiceProcess;
  taskQueue: string;
  env: NodeJS.ProcessEnv;
  /** Output of both processes, for assertions and for debugging a failure. */
  logs: string[];
  stop(): Promise<void>;
}

/**
 * The API and the worker as real OS processes, on their own task queue, against the run's
 * Postgres and Temporal; resolves once /readyz answers 200 and the worker polls.
 */
export async function startAppUnderTest(extraEnv: NodeJS.ProcessEnv = {}): Promise<AppUnderTest> {
  const { databaseUrl, temporalAddress } = testInfra();
  const port = await freePort();
  const taskQueue = `test-${randomUUID()}`;
  const logs: string[] = [];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...TEST_SECRETS,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  let workerRunning: () => void = () => undefined;
  const workerReady = new Promise<void>((resolve) => (workerRunning = resolve));
  const worker = serviceProcess({
    name: 'worker',
    entry: 'worker/main.ts',
    env,
    onLine: (line) => {
      logs.push(`[worker] ${line}`);
      if (line.includes("state: 'RUNNING'") || line.includes('"state":"RUNNING"')) workerRunning();
    },
  });
  const api = serviceProcess({ name: 'api', entry: 'api/server.ts', env, onLine: (line) => logs.push(`[api] ${line}`) });
  worker.start();
  api.start();
  const apiUrl = `http://127.0.0.1:${port}`;
  try {
    await Promise.all([waitForHttp(`${apiUrl}/readyz`, 60_000), withTimeout(workerReady, 60_000, 'worker did not start')]);
  } catch (error) {
    await Promise.all([api.stop(), worker.stop()]);
    throw new Error(`${String(error)}\n${logs.slice(-30).join('\n')}`);
  }
  return {
    apiUrl,
    api,
    worker,
    taskQueue,
    env,
    logs,
    stop: async () => {
      await Promise.all([api.stop(), worker.stop()]);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
