import path from 'node:path';
import { runMigrations } from './migrate';
import { startEmbeddedPostgres, type RunningPostgres } from './postgres';
import { startTemporalDevServer, type RunningTemporal } from './temporal-server';

export interface DataServicesOptions {
  /** Postgres data goes to `<dir>/pg`, Temporal's state to `<dir>/temporal.db`. */
  dir: string;
  pgPort: number;
  temporalPort: number;
  database: string;
  temporalLogLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Log lines of `postgres`, `temporal` and `migrate`. */
  onLog?: (source: 'postgres' | 'temporal' | 'migrate', line: string) => void;
}

export interface DataServices {
  postgres: RunningPostgres;
  temporal: RunningTemporal;
}

/**
 * Starts an embedded Postgres and a file-backed Temporal dev server side by side and applies the
 * migrations. If either fails to start, or the migrations fail, whichever did start is stopped.
 */
export async function startDataServices(options: DataServicesOptions): Promise<DataServices> {
  const log = (source: 'postgres' | 'temporal' | 'migrate') => (line: string) => options.onLog?.(source, line);
  const [pg, tp] = await Promise.allSettled([
    startEmbeddedPostgres({
      dataDir: path.join(options.dir, 'pg'),
      port: options.pgPort,
      database: options.database,
      onLog: log('postgres'),
    }),
    startTemporalDevServer({
      port: options.temporalPort,
      dbFile: path.join(options.dir, 'temporal.db'),
      logLevel: options.temporalLogLevel ?? 'warn',
      onLog: log('temporal'),
    }),
  ]);
  const stopStarted = () =>
    Promise.allSettled([pg.status === 'fulfilled' && pg.value.stop(), tp.status === 'fulfilled' && tp.value.stop()]);
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
