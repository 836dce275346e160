import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { PROJECT_ROOT } from './tools';

export interface ServiceOptions {
  name: string;
  /** A TypeScript entry point relative to the project root, e.g. `api/server.ts`. */
  entry: string;
  env: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
  /** Node options before the entry point, e.g. `--cpu-prof` (the bench's `BENCH_API_CPU_PROF`). */
  nodeArgs?: readonly string[];
}

export interface ServiceProcess {
  readonly name: string;
  pid(): number | undefined;
  running(): boolean;
  start(): void;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** kill -9: no chance to clean up, as in a crash. */
  kill9(): Promise<void>;
  exited(): Promise<number | null>;
}

/**
 * Runs one of the project's TypeScript entry points as its own OS process. `node --import tsx`
 * keeps it a single process (the `tsx` CLI would add a parent), so kill -9 hits the service itself.
 */
export function serviceProcess(options: ServiceOptions): ServiceProcess {
  let child: ChildProcess | undefined;
  let exit: Promise<number | null> = Promise.resolve(null);

  const isRunning = () => !!child && child.exitCode === null && child.signalCode === null;

  const start = () => {
    if (isRunning()) return;
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', path.join(PROJECT_ROOT, options.entry)], {
      cwd: PROJECT_ROOT,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const current = child;
    exit = new Promise((resolve) => current.once('exit', (code) => resolve(code)));
    const onLine = options.onLine ?? (() => undefined);
    readline.createInterface({ input: current.stdout! }).on('line', onLine);
    readline.createInterface({ input: current.stderr! }).on('line', onLine);
  };

  const signal = async (sig: NodeJS.Signals, graceMs: number) => {
    if (!isRunning()) return;
    const current = child!;
    current.kill(sig);
    const timer = setTimeout(() => current.kill('SIGKILL'), graceMs);
    await exit;
    clearTimeout(timer);
  };

  return {
    name: options.name,
    pid: () => child?.pid,
    running: isRunning,
    start,
    stop: (graceMs = 10_000) => signal('SIGTERM', graceMs),
    kill9: () => signal('SIGKILL', 0),
    exited: () => exit,
  };
}

export async function waitForHttp(
  url: string,
  timeoutMs: number,
  accept: (status: number) => boolean = (s) => s === 200,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (accept(response.status)) return;
      last = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} not ready within ${timeoutMs} ms (${last})`);
}
