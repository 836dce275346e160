import path from 'node:path';
import { clusterPostgresFromUrl, clusterShards, type ClusterPorts } from '../temporal-cluster/config';
import { runMigrations } from './migrate';
import { startEmbeddedPostgres, type RunningPostgres } from './postgres';
import { freeClusterPorts, startTemporalCluster, type TemporalServerKind } from './temporal-cluster';
import { startTemporalDevServer, type RunningTemporal } from './temporal-server';

export interface DataServicesOptions {
  /** Postgres data goes to `<dir>/pg`, the dev server's state to `<dir>/temporal.db`. */
  dir: string;
  pgPort: number;
  /** The frontend's gRPC port; a cluster takes its other ports (and this one, if above 32767) where free below 32768. */
  temporalPort: number;
  database: string;
  /** `cluster`: Temporal's own server with its state in the same Postgres (docs/TEMPORAL-CLUSTER.md). */
  temporalServer?: TemporalServerKind;
  temporalLogLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** The dev server's Web UI port (the test run's, for the Web UI browser test); omit for none. */
  temporalUiPort?: number;
  /** The Web UI's remote codec endpoint (codec-server/), with temporalUiPort. */
  temporalUiCodecEndpoint?: string;
  /** Log lines of `postgres`, `temporal` and `migrate`. */
  onLog?: (source: 'postgres' | 'temporal' | 'migrate', line: string) => void;
}

export interface DataServices {
  postgres: RunningPostgres;
  temporal: RunningTemporal;
}

/** The caller's frontend port where the cluster can record it (below 32768), the rest free low ports. */
async function clusterPorts(frontendGrpc: number): Promise<ClusterPorts> {
  const ports = await freeClusterPorts([frontendGrpc]);
  return frontendGrpc <= 32_767 ? { ...ports, frontendGrpc } : ports;
}

async function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  return promise.then(
    (value) => ({ status: 'fulfilled', value }),
    (reason: unknown) => ({ status: 'rejected', reason }),
  );
}

/**
 * Starts an embedded Postgres and a Temporal server and applies the migrations. The dev server
 * starts beside Postgres; a cluster keeps its state in that Postgres, so it starts after it. If
 * anything fails to start, or the migrations fail, whatever did start is stopped.
 */
export async function startDataServices(options: DataServicesOptions): Promise<DataServices> {
  const log = (source: 'postgres' | 'temporal' | 'migrate') => (line: string) => options.onLog?.(source, line);
  const logLevel = options.temporalLogLevel ?? 'warn';
  const startPostgres = () =>
    startEmbeddedPostgres({
      dataDir: path.join(options.dir, 'pg'),
      port: options.pgPort,
      database: options.database,
      onLog: log('postgres'),
    });
  let pg: PromiseSettledResult<RunningPostgres>;
  let tp: PromiseSettledResult<RunningTemporal>;
  if (options.temporalServer === 'cluster') {
    pg = await settle(startPostgres());
    tp =
      pg.status === 'rejected'
        ? { status: 'rejected', reason: new Error('not started: Postgres failed') }
        : await settle(
            (async () =>
              startTemporalCluster({
                dir: path.join(options.dir, 'temporal-cluster'),
                postgres: clusterPostgresFromUrl(pg.value.url),
                ports: await clusterPorts(options.temporalPort),
                shards: clusterShards(),
                logLevel,
                onLog: log('temporal'),
                ...(options.temporalUiPort && { uiPort: options.temporalUiPort }),
                uiCodecEndpoint: options.temporalUiCodecEndpoint,
              }))(),
          );
  } else {
    [pg, tp] = await Promise.allSettled([
      startPostgres(),
      startTemporalDevServer({
        port: options.temporalPort,
        dbFile: path.join(options.dir, 'temporal.db'),
        logLevel,
        onLog: log('temporal'),
        ...(options.temporalUiPort && { uiPort: options.temporalUiPort }),
        uiCodecEndpoint: options.temporalUiCodecEndpoint,
      }),
    ]);
  }
  const stopStarted = () =>
    Promise.allSettled([tp.status === 'fulfilled' && tp.value.stop(), pg.status === 'fulfilled' && pg.value.stop()]);
  if (pg.status === 'rejected' || tp.status === 'rejected') {
    await stopStarted();
    throw pg.status === 'rejected' ? pg.reason : (tp as PromiseRejectedResult).reason;
  }
  try {
    await runMigrations(pg.value.url, log('migrate'));
  } catch (error) {
    await stopStarted();
    throw error;
  }
  return { postgres: pg.value, temporal: tp.value };
}
