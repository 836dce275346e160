/*
 * Starts a throwaway Postgres and Temporal dev server on free ports under --dir, applies the
 * migrations, prints one line `READY {json}` and runs until SIGTERM/SIGINT. The test run
 * starts it (test/helpers/global-setup.ts); its JSON names the addresses and pids.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port';
import { runMigrations } from './migrate';
import { startEmbeddedPostgres } from './postgres';
import { startTemporalDevServer } from './temporal-server';

async function main(): Promise<void> {
  const dirFlag = process.argv.indexOf('--dir');
  const dir = dirFlag > 0 ? process.argv[dirFlag + 1] : undefined;
  if (!dir) throw new Error('usage: infra.ts --dir <empty directory>');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // the unprivileged postgres user must be able to reach its data directory
  const log = (source: string) => (line: string) => process.stderr.write(`[${source}] ${line}\n`);

  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  const [postgres, temporal] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, database: 'flash_sale_test', onLog: () => undefined }),
    startTemporalDevServer({
      port: temporalPort,
      dbFile: path.join(dir, 'temporal.db'),
      logLevel: 'error',
      onLog: (line) => /level=(ERROR|FATAL)|panic/.test(line) && log('temporal')(line),
    }),
  ]);
  await runMigrations(postgres.url);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled([temporal.stop(), postgres.stop()]);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdout.write(
    `READY ${JSON.stringify({ databaseUrl: postgres.url, temporalAddress: temporal.address, postgresPid: postgres.pid(), temporalPid: temporal.pid() })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`infra failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
