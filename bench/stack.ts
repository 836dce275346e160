/*
 * The bench's own throwaway stack: embedded Postgres and a Temporal dev server (or Temporal's own
 * server on that Postgres: `cluster`) on free ports in a temp dir, the migrations, then (on first
 * use) the API and the worker as real processes. Services start lazily so the claim statements
 * can be measured on a database nobody else uses.
 */
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../scripts/stack/free-port';
import { startDataServices } from '../scripts/stack/data-services';
import type { TemporalServerKind } from '../scripts/stack/temporal-cluster';
import type { RunningPostgres } from '../scripts/stack/postgres';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../scripts/stack/service-process';
import type { RunningTemporal } from '../scripts/stack/temporal-server';
import { PROJECT_ROOT } from '../scripts/stack/tools';
import { API_NODE_ARGS } from '../api/node-args';
import { rssMb } from './util';

export const BENCH_SECRETS = {
  JWT_SECRET: 'bench-jwt-secret-0123456789abcdef0123456789',
  ADMIN_TOKEN: 'bench-admin-token-0123',
  WEBHOOK_SECRET: 'bench-webhook-secret',
  QUEUE_SECRET: 'bench-queue-secret-0123456789abcdef0123456789',
  ERASURE_SECRET: 'bench-erasure-secret-0123456789abcdef0123456789',
  TEMPORAL_PAYLOAD_KEYS: 'bench:YmVuY2gtb25seS1wYXlsb2FkLWtleS0wMTIzNDU2Nzg=',
};

export interface AppServices {
  apiUrl: string;
  api: ServiceProcess;
  worker: ServiceProcess;
  /** The payment provider simulator, when psp-simulator/server.ts exists in this tree. */
  psp?: ServiceProcess;
  /** Resident memory right after start, before any load (MB). */
  idleRssMb: { api: number | null; worker: number | null };
}

export interface BenchStack {
  dir: string;
  databaseUrl: string;
  temporalAddress: string;
  temporalServer: TemporalServerKind;
  /** Starts the API and the worker (and the PSP simulator if present) once; later calls return them. */
  services(): Promise<AppServices>;
  /** Pids to measure (bench/cpu.ts): api, worker, temporal, postgres, psp, bench. */
  processes(): Promise<Record<string, number | undefined>>;
  servicesStarted(): boolean;
  /** The last lines the services printed, for an error message. */
  recentLogs(): string[];
  stop(): Promise<void>;
}

export async function startBenchStack(
  say: (message: string) => void,
  options: {
    apiPoolMax: number;
    temporalServer: TemporalServerKind;
    apiEnv?: NodeJS.ProcessEnv;
    /** A directory to which every service's log lines also go, one `<source>.log` each (`BENCH_LOG_DIR`). */
    logDir?: string;
  },
): Promise<BenchStack> {
  const { apiPoolMax, temporalServer } = options;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flash-sale-bench-'));
  chmodSync(dir, 0o755); // the unprivileged postgres user must reach its data directory
  // Also on exit: a run that ends through process.exit does not wait for stop() below.
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  let postgres: RunningPostgres | undefined;
  let temporal: RunningTemporal | undefined;
  const logs: string[] = [];
  const logFiles = new Map<string, WriteStream>();
  if (options.logDir) mkdirSync(options.logDir, { recursive: true });
  const logFile = (source: string, logDir: string) => {
    let file = logFiles.get(source);
    if (!file) logFiles.set(source, (file = createWriteStream(path.join(logDir, `${source}.log`), { flags: 'a' })));
    return file;
  };
  const remember = (source: string) => (line: string) => {
    logs.push(`[${source}] ${line}`);
    if (logs.length > 200) logs.shift();
    if (options.logDir) logFile(source, options.logDir).write(`${line}\n`);
  };
  let app: AppServices | undefined;
  let starting: Promise<AppServices> | undefined;
  /** Every service process ever started (a restart adds the new ones), for stop(). */
  const launched: ServiceProcess[] = [];

  // Everything at once: each stop() signals its process before its first await.
  const stop = async () => {
    await Promise.allSettled([...launched.map((service) => service.stop()), temporal?.stop(), postgres?.stop()]);
    for (const file of logFiles.values()) file.end();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    say(`starting embedded Postgres (:${pgPort}) and Temporal ${temporalServer} server (:${temporalPort}) in ${dir}`);
    ({ postgres, temporal } = await startDataServices({
      dir,
      pgPort,
      temporalPort,
      database: 'flash_sale_bench',
      temporalServer,
      temporalLogLevel: 'error',
      onLog: (source, line) => source === 'temporal' && remember('temporal')(line),
    }));
  } catch (error) {
    await stop();
    throw error;
  }
  const databaseUrl = postgres!.url;
  const temporalAddress = temporal!.address;

  async function startServices(): Promise<AppServices> {
    const port = await freePort();
    const apiUrl = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...BENCH_SECRETS,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      PORT: String(port),
      HOST: '127.0.0.1',
      PG_POOL_MAX: String(apiPoolMax),
      LOG_LEVEL: 'warn',
      // The sold-out phase sends every request as one shopper: a per-shopper limit it never
      // reaches, so its answers are still counted (api/rate-limit.ts) but none is a 429.
      RATE_LIMIT_PER_SHOPPER: '1000000000',
    };
    let psp: ServiceProcess | undefined;
    // The payment route needs the simulator (docs/PERFORMANCE.md); started only where it exists.
    if (existsSync(path.join(PROJECT_ROOT, 'psp-simulator', 'server.ts'))) {
      const pspPort = await freePort();
      env.PSP_URL = `http://127.0.0.1:${pspPort}`;
      psp = serviceProcess({
        name: 'psp',
        entry: 'psp-simulator/server.ts',
        env: { ...env, PSP_PORT: String(pspPort), PSP_WEBHOOK_URL: `${apiUrl}/v1/webhooks/payments` },
        onLine: remember('psp'),
      });
      say(`starting the payment provider simulator (:${pspPort})`);
      launched.push(psp);
      psp.start();
      await waitForHttpPort(env.PSP_URL);
    }
    const { api, worker } = await startApiAndWorker(apiUrl, env);
    app = { apiUrl, api, worker, psp, idleRssMb: { api: rssMb(api.pid()), worker: rssMb(worker.pid()) } };
    return app;
  }

  async function startApiAndWorker(apiUrl: string, env: NodeJS.ProcessEnv): Promise<Pick<AppServices, 'api' | 'worker'>> {
    let workerRunning: () => void = () => undefined;
    const workerReady = new Promise<void>((resolve) => (workerRunning = resolve));
    const worker = serviceProcess({
      name: 'worker',
      entry: 'worker/main.ts',
      env,
      onLine: (line) => {
        remember('worker')(line);
        if (line.includes("state: 'RUNNING'") || line.includes('"state":"RUNNING"')) workerRunning();
      },
    });
    // BENCH_API_CPU_PROF=<dir>: the API writes a V8 CPU profile there when it stops (open it in Chrome DevTools).
    const profileDir = process.env.BENCH_API_CPU_PROF;
    const api = serviceProcess({
      name: 'api',
      entry: 'api/server.ts',
      env: { ...env, ...options.apiEnv },
      onLine: remember('api'),
      nodeArgs: [...API_NODE_ARGS, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [])],
    });
    say(`starting the API (${apiUrl}) and the worker (LOG_LEVEL=warn, PG_POOL_MAX=${apiPoolMax})`);
    launched.push(worker, api); // before the wait: stop() stops them even if the start fails
    worker.start();
    api.start();
    await Promise.all([waitForHttp(`${apiUrl}/readyz`, 90_000), withTimeout(workerReady, 90_000, 'the worker did not start')]);
    return { api, worker };
  }

  return {
    dir,
    databaseUrl,
    temporalAddress,
    temporalServer,
    services: () => (starting ??= startServices()),
    async processes() {
      const services = starting ? await starting : undefined;
      return {
        api: services?.api.pid(),
        worker: services?.worker.pid(),
        temporal: temporal?.pid(),
        postgres: postgres?.pid(),
        psp: services?.psp?.pid(),
        bench: process.pid,
      };
    },
    servicesStarted: () => starting !== undefined,
    recentLogs: () => logs.slice(-30),
    stop,
  };
}

/** Any HTTP answer means the simulator listens. */
async function waitForHttpPort(url: string): Promise<void> {
  await waitForHttp(url, 30_000, () => true);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
