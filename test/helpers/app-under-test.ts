import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { freePort } from '../../scripts/stack/free-port';
import { startMailCatcher, type MailCatcher } from '../../scripts/stack/mail-catcher';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { entryFor } from './crash-points';
import { testInfra } from './infra-env';

export const TEST_SECRETS = {
  JWT_SECRET: 'test-jwt-secret-0123456789abcdef0123456789',
  ADMIN_TOKEN: 'test-admin-token-0123',
  WEBHOOK_SECRET: 'test-webhook-secret',
  QUEUE_SECRET: 'test-queue-secret-0123456789abcdef0123456789',
  ERASURE_SECRET: 'test-erasure-secret-0123456789abcdef0123456789',
  /** The bytes of `test-only-payload-key-0123456789` (test/helpers/temporal-client.ts uses it too). */
  TEMPORAL_PAYLOAD_KEYS: 'test:dGVzdC1vbmx5LXBheWxvYWQta2V5LTAxMjM0NTY3ODk=',
};

export interface AppUnderTest {
  apiUrl: string;
  api: ServiceProcess;
  worker: ServiceProcess;
  /** Every worker process (`worker` is the first). */
  workers: ServiceProcess[];
  /** The mail catcher the workers send outcome e-mails to, when asked for. */
  mail?: MailCatcher;
  /** The payment provider simulator(s): `primary`, and `secondary` when asked for. */
  psps: Record<string, { url: string; process: ServiceProcess }>;
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
export interface AppUnderTestOptions {
  /** Extra environment for the API and the worker. */
  env?: NodeJS.ProcessEnv;
  /** Extra environment for the API only, or the worker only. */
  apiEnv?: NodeJS.ProcessEnv;
  workerEnv?: NodeJS.ProcessEnv;
  /** Extra environment for the primary payment provider simulator. */
  pspEnv?: NodeJS.ProcessEnv;
  /** Start a secondary gateway too, with this extra environment. */
  secondaryPspEnv?: NodeJS.ProcessEnv;
  /** Start a mail catcher (free ports) and point the workers' SMTP_URL at it. */
  mail?: boolean;
  /** How many worker processes to start on the task queue (default 1). */
  workers?: number;
  /** Start the API with the development sign-in (POST /dev/sign-in), as `npm run dev` does. */
  devSignIn?: boolean;
  /** Start the API from this test entry (test/helpers/entries/) instead of the production one. */
  apiEntry?: string;
}

/** The API with the development sign-in, for the browser tests (as scripts/dev-api.ts for npm run dev). */
const API_WITH_DEV_SIGN_IN = 'test/helpers/entries/api-with-dev-sign-in.ts';

export async function startAppUnderTest(options: AppUnderTestOptions = {}): Promise<AppUnderTest> {
  const extraEnv = options.env ?? {};
  const { databaseUrl, temporalAddress } = testInfra();
  const port = await freePort();
  const taskQueue = `test-${randomUUID()}`;
  const logs: string[] = [];
  const apiUrl = `http://127.0.0.1:${port}`;
  const psps: AppUnderTest['psps'] = {};
  const pspSpecs: Array<[string, NodeJS.ProcessEnv | undefined]> = [
    ['primary', options.pspEnv ?? {}],
    ['secondary', options.secondaryPspEnv],
  ];
  for (const [name, pspEnv] of pspSpecs) {
    if (!pspEnv) continue;
    const pspPort = await freePort();
    const process_ = serviceProcess({
      name: `psp-${name}`,
      entry: 'psp-simulator/server.ts',
      env: {
        ...process.env,
        PSP_PORT: String(pspPort),
        PSP_NAME: name,
        WEBHOOK_SECRET: TEST_SECRETS.WEBHOOK_SECRET,
        PSP_WEBHOOK_URL: `${apiUrl}/v1/webhooks/payments`,
        PSP_SLOW_MS: '7000',
        LOG_LEVEL: 'warn',
        ...pspEnv,
      },
      onLine: (line) => logs.push(`[psp-${name}] ${line}`),
    });
    process_.start();
    psps[name] = { url: `http://127.0.0.1:${pspPort}`, process: process_ };
  }
  const mail = options.mail ? await startMailCatcher({ smtpPort: 0, webPort: 0 }) : undefined;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...TEST_SECRETS,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    PORT: String(port),
    LOG_LEVEL: 'warn',
    PSP_URL: psps.primary!.url,
    ...(psps.secondary && { PSP_SECONDARY_URL: psps.secondary.url }),
    NOTIFICATIONS_FILE: path.join(testInfra().dir, `notifications-${taskQueue}.jsonl`),
    ...(mail && { SMTP_URL: mail.smtpUrl }),
    // Shedding the crowd depends on how late the loop runs on a busy test machine: a test that
    // sends a burst and counts its exact answers would see 429s. Off unless a test turns it on
    // (test/integration/checkout-capacity.test.ts).
    CROWD_SHED_EVENT_LOOP_DELAY_MS: '0',
    ...extraEnv,
  };
  const workerEnv = { ...env, ...options.workerEnv };
  const workerReadiness: Promise<void>[] = [];
  const workers = Array.from({ length: options.workers ?? 1 }, (_, i) => {
    const name = i === 0 ? 'worker' : `worker-${i + 1}`;
    let workerRunning: () => void = () => undefined;
    workerReadiness.push(new Promise<void>((resolve) => (workerRunning = resolve)));
    return serviceProcess({
      name,
      entry: entryFor('worker', workerEnv),
      env: workerEnv,
      onLine: (line) => {
        logs.push(`[${name}] ${line}`);
        if (line.includes("state: 'RUNNING'") || line.includes('"state":"RUNNING"')) workerRunning();
      },
    });
  });
  const apiEnv = { ...env, ...options.apiEnv };
  const api = serviceProcess({
    name: 'api',
    entry: options.apiEntry ?? (options.devSignIn ? API_WITH_DEV_SIGN_IN : entryFor('api', apiEnv)),
    env: apiEnv,
    onLine: (line) => logs.push(`[api] ${line}`),
  });
  for (const worker of workers) worker.start();
  api.start();
  const pspProcesses = Object.values(psps).map((psp) => psp.process);
  const stopAll = async () => {
    await Promise.all([api.stop(), ...workers.map((w) => w.stop()), ...pspProcesses.map((p) => p.stop())]);
    await mail?.stop();
  };
  try {
    await Promise.all([
      waitForHttp(`${apiUrl}/readyz`, 60_000),
      ...workerReadiness.map((ready) => withTimeout(ready, 60_000, 'worker did not start')),
      ...Object.values(psps).map((psp) => waitForHttp(`${psp.url}/healthz`, 30_000)),
    ]);
  } catch (error) {
    await stopAll();
    throw new Error(`${String(error)}\n${logs.slice(-30).join('\n')}`);
  }
  return {
    apiUrl,
    api,
    worker: workers[0]!,
    workers,
    ...(mail && { mail }),
    psps,
    taskQueue,
    env,
    logs,
    stop: stopAll,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
