/*
 * The chaos run's own stack in a temp dir on free ports: embedded Postgres (persistent data dir),
 * the Temporal dev server on a SQLite file (TEMPORAL_SERVER=cluster: Temporal's own server on that
 * Postgres), the PSP simulator with a journal (and a second one as the secondary gateway when
 * asked), the migrations, then
 * the API and the worker as real processes. Each of the four killable processes is a `Victim`:
 * kill -9 it, start it again, ask whether it is still alive.
 */
import { appendFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../scripts/stack/free-port';
import { startDataServices } from '../scripts/stack/data-services';
import { temporalServerKind } from '../scripts/stack/temporal-cluster';
import type { RunningPostgres } from '../scripts/stack/postgres';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../scripts/stack/service-process';
import type { RunningTemporal } from '../scripts/stack/temporal-server';
import type { Target } from './options';
import { alive, childPids, reap } from './process-tree';

export const CHAOS_SECRETS = {
  JWT_SECRET: 'chaos-jwt-secret-0123456789abcdef0123456789',
  ADMIN_TOKEN: 'chaos-admin-token-0123',
  WEBHOOK_SECRET: 'chaos-webhook-secret',
  QUEUE_SECRET: 'chaos-queue-secret-0123456789abcdef0123456789',
  ERASURE_SECRET: 'chaos-erasure-secret-0123456789abcdef0123456789',
  TEMPORAL_PAYLOAD_KEYS: 'chaos:Y2hhb3Mtb25seS1wYXlsb2FkLWtleS0wMTIzNDU2Nzg=',
};

export interface Victim {
  readonly name: Target;
  pid(): number | undefined;
  alive(): boolean;
  /** kill -9; resolves once the process (and, for Postgres, every backend it left) is gone. */
  kill(): Promise<string>;
  /** Starts it again and resolves once it serves. */
  start(): Promise<void>;
}

export interface ChaosStack {
  dir: string;
  databaseUrl: string;
  temporalAddress: string;
  apiUrl: string;
  pspUrl: string;
  /** The secondary gateway's simulator, when the stack has one. */
  pspSecondaryUrl?: string;
  victims: Record<Target, Victim>;
  /** Set while a victim is down on purpose, so the watchdog does not report it. */
  expectDown(target: Target, down: boolean): void;
  /** Victims that died without being killed, since the last call. */
  unexpectedDeaths(): Array<{ target: Target; detail: string }>;
  recentLogs(): string[];
  stop(): Promise<void>;
}

export interface ChaosStackOptions {
  seed: number;
  say: (message: string) => void;
  /** Start a second simulator (`PSP_NAME=secondary`) and give the worker and the API `PSP_SECONDARY_URL`. */
  secondaryGateway?: boolean;
  /** Outcome e-mails go to this SMTP server instead of NOTIFICATIONS_FILE. */
  smtpUrl?: string;
}

const TASK_QUEUE = 'flash-sale-chaos';

export async function startChaosStack(options: ChaosStackOptions): Promise<ChaosStack> {
  const { say } = options;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flash-sale-chaos-'));
  chmodSync(dir, 0o755); // the unprivileged postgres user must reach its data directory
  const recent: string[] = [];
  const logTo = (source: string) => (line: string) => {
    appendFileSync(path.join(dir, `${source}.log`), `${new Date().toISOString()} ${line}\n`);
    recent.push(`[${source}] ${line}`);
    if (recent.length > 100) recent.shift();
  };
  const [pgPort, temporalPort, apiPort, pspPort, pspSecondaryPort] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  let postgres: RunningPostgres | undefined;
  let temporal: RunningTemporal | undefined;
  let api: ServiceProcess | undefined;
  let worker: ServiceProcess | undefined;
  let psp: ServiceProcess | undefined;
  let pspSecondary: ServiceProcess | undefined;
  const deaths: Array<{ target: Target; detail: string }> = [];
  const down = new Set<Target>();

  const stop = async () => {
    down.add('api').add('worker').add('temporal').add('postgres');
    await Promise.allSettled([api?.stop(), worker?.stop(), psp?.stop(), pspSecondary?.stop()]);
    await Promise.allSettled([temporal?.stop(), postgres?.stop()]);
  };

  try {
    say(
      `stack in ${dir}: Postgres :${pgPort}, Temporal :${temporalPort}, API :${apiPort}, PSP :${pspPort}` +
        (options.secondaryGateway ? `, secondary PSP :${pspSecondaryPort}` : ''),
    );
    ({ postgres, temporal } = await startDataServices({
      dir,
      pgPort,
      temporalPort,
      database: 'flash_sale_chaos',
      temporalServer: temporalServerKind(),
      temporalLogLevel: 'warn',
      onLog: (source, line) => logTo(source)(line),
    }));

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const pspUrl = `http://127.0.0.1:${pspPort}`;
    const pspSecondaryUrl = options.secondaryGateway ? `http://127.0.0.1:${pspSecondaryPort}` : undefined;
    const simulator = (name: 'primary' | 'secondary', port: number, seed: number) =>
      serviceProcess({
        name: name === 'primary' ? 'psp' : 'psp-secondary',
        entry: 'psp-simulator/server.ts',
        env: {
          ...process.env,
          PSP_PORT: String(port),
          PSP_HOST: '127.0.0.1',
          PSP_NAME: name,
          WEBHOOK_SECRET: CHAOS_SECRETS.WEBHOOK_SECRET,
          PSP_WEBHOOK_URL: `${apiUrl}/v1/webhooks/payments`,
          PSP_DATA_FILE: path.join(dir, `psp-${name}-journal.jsonl`),
          PSP_SEED: String(seed),
          PSP_SLOW_MS: '7000', // tok_slow: longer than one charge attempt (5 s)
          PSP_FAULT_RESET_RATE: '0.05',
          PSP_FAULT_5XX_RATE: '0.05',
          PSP_FAULT_SLOW_RATE: '0.05',
          PSP_FAULT_SLOW_MS: '3000',
          PSP_WEBHOOK_DUPLICATE_RATE: '0.2',
          PSP_WEBHOOK_LATE_RATE: '0.1',
          PSP_WEBHOOK_LATE_MS: '8000',
          PSP_WEBHOOK_REORDER_RATE: '0.1',
          LOG_LEVEL: 'warn',
        },
        onLine: logTo(name === 'primary' ? 'psp' : 'psp-secondary'),
      });
    psp = simulator('primary', pspPort, options.seed);
    psp.start();
    await waitForHttp(`${pspUrl}/healthz`, 30_000);
    if (pspSecondaryUrl) {
      pspSecondary = simulator('secondary', pspSecondaryPort, options.seed + 1);
      pspSecondary.start();
      await waitForHttp(`${pspSecondaryUrl}/healthz`, 30_000);
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...CHAOS_SECRETS,
      DATABASE_URL: postgres!.url,
      TEMPORAL_ADDRESS: temporal!.address,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      PORT: String(apiPort),
      HOST: '127.0.0.1',
      PG_POOL_MAX: '10',
      LOG_LEVEL: 'warn',
      PSP_URL: pspUrl,
      ...(pspSecondaryUrl && { PSP_SECONDARY_URL: pspSecondaryUrl }),
      NOTIFICATIONS_FILE: path.join(dir, 'notifications.jsonl'),
      ...(options.smtpUrl && { SMTP_URL: options.smtpUrl }),
    };
    let workerRunning: () => void = () => undefined;
    worker = serviceProcess({
      name: 'worker',
      entry: 'worker/main.ts',
      env,
      onLine: (line) => {
        logTo('worker')(line);
        if (line.includes("state: 'RUNNING'") || line.includes('"state":"RUNNING"')) workerRunning();
      },
    });
    api = serviceProcess({ name: 'api', entry: 'api/server.ts', env, onLine: logTo('api') });

    const watchExit = (target: 'api' | 'worker', service: ServiceProcess) => {
      const pid = service.pid();
      void service.exited().then((code) => {
        if (down.has(target)) return;
        deaths.push({ target, detail: `pid ${pid} exited on its own with code ${code}` });
      });
    };
    const startWorker = async () => {
      const ready = new Promise<void>((resolve) => (workerRunning = resolve));
      worker!.start();
      watchExit('worker', worker!);
      await withTimeout(ready, 60_000, 'the worker did not reach RUNNING within 60 s');
    };
    const startApi = async () => {
      api!.start();
      watchExit('api', api!);
      await waitForHttp(`${apiUrl}/readyz`, 60_000);
    };
    say('starting the worker and the API');
    await Promise.all([startWorker(), startApi()]);

    const service = (name: 'api' | 'worker', handle: ServiceProcess, start: () => Promise<void>): Victim => ({
      name,
      pid: () => handle.pid(),
      alive: () => handle.running(),
      kill: async () => {
        const pid = handle.pid();
        await handle.kill9();
        return `pid ${pid}`;
      },
      start,
    });
    const pg = postgres!;
    const tp = temporal!;
    const victims: Record<Target, Victim> = {
      api: service('api', api, startApi),
      worker: service('worker', worker, startWorker),
      temporal: {
        name: 'temporal',
        pid: () => tp.pid(),
        alive: () => isAlive(tp.pid()),
        kill: async () => {
          const pid = tp.pid()!;
          process.kill(pid, 'SIGKILL');
          await reap([pid], 10_000);
          return `pid ${pid}`;
        },
        start: () => withTimeout(tp.start(), 90_000, 'Temporal did not come back within 90 s'),
      },
      postgres: {
        name: 'postgres',
        pid: () => pg.pid(),
        alive: () => isAlive(pg.pid()),
        kill: async () => {
          const pid = pg.pid()!;
          const backends = childPids(pid);
          process.kill(pid, 'SIGKILL');
          // The orphaned backends notice the postmaster's death and exit; a new postmaster refuses
          // to start while any of them still holds the shared memory, so wait for them (or kill them).
          const killed = await reap([pid, ...backends], 5_000);
          return `postmaster ${pid}; ${backends.length} children left behind, ${killed} of them still alive after 5 s and killed`;
        },
        start: () => startPostgresAgain(pg),
      },
    };
    return {
      dir,
      databaseUrl: pg.url,
      temporalAddress: tp.address,
      apiUrl,
      pspUrl,
      ...(pspSecondaryUrl && { pspSecondaryUrl }),
      victims,
      expectDown: (target, isDown) => (isDown ? down.add(target) : down.delete(target)),
      unexpectedDeaths: () => {
        for (const target of ['temporal', 'postgres'] as const) {
          if (!down.has(target) && !victims[target].alive()) {
            deaths.push({ target, detail: `pid ${victims[target].pid()} is gone` });
            down.add(target); // reported once; the caller restarts it
          }
        }
        return deaths.splice(0);
      },
      recentLogs: () => recent.slice(-40),
      stop,
    };
  } catch (error) {
    say(`stack failed to start: ${String(error)}\n${recent.slice(-30).join('\n')}`);
    await stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

function isAlive(pid: number | undefined): boolean {
  return pid !== undefined && alive(pid);
}

/** start() rejects when the server exits before it is ready, e.g. while a lock is still held. */
async function startPostgresAgain(postgres: RunningPostgres): Promise<void> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= 5; attempt++) {
    try {
      await withTimeout(postgres.start(), 60_000, 'Postgres did not accept connections within 60 s');
      return;
    } catch (error) {
      lastError = error ?? 'the server exited while starting';
      await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
    }
  }
  throw new Error(`Postgres did not come back after 5 attempts: ${String(lastError)}`);
}

export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
