import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_REGISTRATIONS } from '../../domain/reservation-workflow-contract';
import { WORKFLOW_HISTORY_RETENTION_HOURS } from '../../domain/retention';
import { requireClusterBinaries, serverBinary, uiServerBinary } from '../temporal-cluster/binaries';
import { writeClusterConfig, writeUiConfig, type ClusterPorts, type ClusterPostgres } from '../temporal-cluster/config';
import { setUpClusterSchemas } from '../temporal-cluster/schema';
import { freePort } from './free-port';
import { waitForHttp } from './service-process';
import { launcherEnv } from './launcher-env';
import { setHistoryRetention, type RunningTemporal } from './temporal-server';
import { temporalCliPath } from './tools';

/** Which Temporal server a stack runs: the CLI's dev server (default) or the real server on Postgres. */
export type TemporalServerKind = 'dev' | 'cluster';

/** `TEMPORAL_SERVER=cluster` selects the real server in `npm run dev`, the tests, the bench and chaos. */
export function temporalServerKind(env: NodeJS.ProcessEnv = process.env): TemporalServerKind {
  const value = launcherEnv.shape.TEMPORAL_SERVER.safeParse(env.TEMPORAL_SERVER);
  if (!value.success) throw new Error(`TEMPORAL_SERVER must be "dev" or "cluster", not "${env.TEMPORAL_SERVER}"`);
  return value.data;
}

export interface TemporalClusterOptions {
  /** Generated config.yaml and dynamic-config.yaml go here; the state lives in Postgres. */
  dir: string;
  postgres: ClusterPostgres;
  ports: ClusterPorts;
  shards: number;
  /** Web UI port (the separate UI server); omit for none. */
  uiPort?: number;
  /** The Web UI's remote codec endpoint (codec-server/); omit for none. */
  uiCodecEndpoint?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  onLog?: (line: string) => void;
}

const NAMESPACE = 'default';
const GRPC_NOT_FOUND = 5;
/** Closed workflows' histories are kept as long as the dev server's (domain/retention.ts). */
const RETENTION = `${WORKFLOW_HISTORY_RETENTION_HOURS}h`;

/**
 * Temporal's own server, all four services (frontend, history, matching, worker) in one process,
 * on the given Postgres: databases and schema first (idempotent), then the server, then the
 * `default` namespace and the search attributes, which the real server does not create itself.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<RunningTemporal> {
  requireClusterBinaries();
  const log = options.onLog ?? (() => undefined);
  await setUpClusterSchemas(options.postgres, log);
  const configFile = writeClusterConfig({
    dir: options.dir,
    postgres: options.postgres,
    ports: options.ports,
    shards: options.shards,
    logLevel: options.logLevel ?? 'warn',
  });
  const address = `127.0.0.1:${options.ports.frontendGrpc}`;

  const uiUrl = options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined;
  if (options.uiPort) writeUiConfig(options.dir, address, options.uiPort, options.uiCodecEndpoint);

  let server: ChildProcess | undefined;
  let ui: ChildProcess | undefined;
  const spawnLogged = (binary: string, args: string[]) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    readline.createInterface({ input: child.stdout! }).on('line', log);
    readline.createInterface({ input: child.stderr! }).on('line', log);
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code) => reject(new Error(`${binary} exited with code ${code} while starting`)));
    });
    exited.catch(() => undefined);
    return { child, exited };
  };
  const start = async () => {
    const started = spawnLogged(serverBinary(), ['--config-file', configFile, '--allow-no-auth', 'start']);
    server = started.child;
    await Promise.race([prepareNamespace(address, log), started.exited]);
    // After a crash of the server alone (chaos kills it by pid) the UI server is still up.
    if (uiUrl && !isRunning(ui)) {
      const startedUi = spawnLogged(uiServerBinary(), ['--root', options.dir, '--config', 'ui', '--env', 'development', 'start']);
      ui = startedUi.child;
      await Promise.race([waitForHttp(uiUrl, 30_000), startedUi.exited]);
    }
  };
  const stop = async () => {
    await Promise.all([ui, server].map((child) => stopChild(child)));
  };
  try {
    await start();
  } catch (error) {
    await stop(); // a server that came up but never got ready is not left behind
    throw error;
  }
  return { address, uiUrl, pid: () => server?.pid, start, stop };
}

function isRunning(child: ChildProcess | undefined): child is ChildProcess {
  return !!child && child.exitCode === null && child.signalCode === null;
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!isRunning(child)) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function connectWithin(address: string, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`Temporal at ${address} not up within ${timeoutMs} ms: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs} ms: ${String(error)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function cli(address: string, args: string[]): void {
  const result = spawnSync(temporalCliPath(), [...args, '--address', address], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`temporal ${args.join(' ')} failed: ${result.stderr || result.stdout}`);
}

/**
 * Registers the `default` namespace and the custom search attributes through the operator API
 * (the `temporal` CLI) where missing, then waits until the frontend resolves a query on them: its
 * namespace cache refreshes every 2 s (`system.namespaceCacheRefreshInterval`), and a workflow
 * started before that would be refused for an unknown search attribute.
 */
async function prepareNamespace(address: string, log: (line: string) => void): Promise<void> {
  const connection = await connectWithin(address, 90_000);
  try {
    const exists = await eventually('the frontend', () =>
      connection.workflowService.describeNamespace({ namespace: NAMESPACE }).then(
        () => true,
        (error: unknown) => {
          if ((error as { code?: number }).code === GRPC_NOT_FOUND) return false;
          throw error;
        },
      ),
    );
    if (!exists) {
      log(`registering namespace ${NAMESPACE}`);
      cli(address, ['operator', 'namespace', 'create', '--namespace', NAMESPACE, '--retention', RETENTION]);
    } else {
      // A cluster database made before the retention changed keeps the old one unless updated.
      await setHistoryRetention(address, NAMESPACE);
    }
    const wanted = SEARCH_ATTRIBUTE_REGISTRATIONS.map((registration) => registration.split('='));
    // A namespace just created is unknown to the frontend for up to a second (it caches misses).
    const { customAttributes } = await eventually(`namespace ${NAMESPACE}`, () =>
      connection.operatorService.listSearchAttributes({ namespace: NAMESPACE }),
    );
    const missing = wanted.filter(([name]) => !customAttributes?.[name!]);
    // One call per attribute: the pinned CLI (1.9.1) registers only the first of several --name.
    for (const [name, type] of missing) {
      log(`registering search attribute ${name} (${type})`);
      cli(address, ['operator', 'search-attribute', 'create', '--namespace', NAMESPACE, '--type', type!, '--name', name!]);
    }
    const query = wanted.map(([name]) => `${name} = 'ready'`).join(' and ');
    await eventually(`search attributes in namespace ${NAMESPACE}`, () =>
      connection.workflowService.countWorkflowExecutions({ namespace: NAMESPACE, query }),
    );
    // The history service has its own namespace cache with the same refresh interval.
    if (missing.length > 0 || !exists) await new Promise((resolve) => setTimeout(resolve, 2_500));
  } finally {
    await connection.close();
  }
}

/*
 * Ports for a throwaway cluster. Not the OS's ephemeral ones: Temporal records each service's
 * membership port in cluster_membership.rpc_port, a smallint, so a port above 32767 stops the
 * server at start ("value out of range for type smallint").
 */
/** Ten distinct free ports on 127.0.0.1 below 32768 for a throwaway cluster, none of `taken`. */
export async function freeClusterPorts(taken: number[] = []): Promise<ClusterPorts> {
  const picked: number[] = [];
  while (picked.length < 10) picked.push(await freePort([...taken, ...picked]));
  const names: Array<keyof ClusterPorts> = [
    'frontendGrpc',
    'frontendHttp',
    'frontendMembership',
    'historyGrpc',
    'historyMembership',
    'matchingGrpc',
    'matchingMembership',
    'workerGrpc',
    'workerMembership',
    'metrics',
  ];
  return Object.fromEntries(names.map((name, i) => [name, picked[i]!])) as unknown as ClusterPorts;
}
