import { spawn, type ChildProcess } from 'node:child_process';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../domain/reservation-workflow-contract';
import { WORKFLOW_HISTORY_RETENTION_HOURS } from '../../domain/retention';
import { temporalCliPath } from './tools';

export interface TemporalDevServerOptions {
  port: number;
  /** Web UI port; omit for a headless server. */
  uiPort?: number;
  /** The Web UI's remote codec endpoint (codec-server/); omit for none. */
  uiCodecEndpoint?: string;
  /** SQLite file that keeps workflows across restarts; omit for an in-memory server. */
  dbFile?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  onLog?: (line: string) => void;
}

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  pid(): number | undefined;
  /** Starts the server again after a stop or a crash (same ports, same file). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<RunningTemporal> {
  const address = `127.0.0.1:${options.port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--log-level',
    options.logLevel ?? 'warn',
  ];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
  else args.push('--headless');
  if (options.uiPort && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (options.dbFile)
    args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  for (const attribute of SEARCH_ATTRIBUTE_REGISTRATIONS) args.push('--search-attribute', attribute);

  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(temporalCliPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = options.onLog ?? (() => undefined);
    child.stdout?.on('data', (chunk: Buffer) => log(chunk.toString().trimEnd()));
    child.stderr?.on('data', (chunk: Buffer) => log(chunk.toString().trimEnd()));
    const exited = new Promise<never>((_, reject) => {
      child?.once('exit', (code) => reject(new Error(`temporal server exited with code ${code} while starting`)));
    });
    await Promise.race([waitForTemporal(address, 60_000), exited]);
    await setHistoryRetention(address, 'default');
  };
  await start();
  return {
    address,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
    pid: () => child?.pid,
    start,
    stop: async () => {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until the frontend answers and the default namespace exists. */
export async function waitForTemporal(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Temporal at ${address} not ready within ${timeoutMs} ms: ${String(lastError)}`);
}

/** Sets the namespace's retention of closed workflows to WORKFLOW_HISTORY_RETENTION_HOURS (the dev server's own is a day). */
export async function setHistoryRetention(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    await connection.workflowService.updateNamespace({
      namespace,
      config: { workflowExecutionRetentionTtl: msToTs(`${WORKFLOW_HISTORY_RETENTION_HOURS} hours`) },
    });
  } finally {
    await connection.close();
  }
}
