/*
 * Starts a throwaway Postgres and Temporal dev server on free ports under --dir, applies the
 * migrations, prints one line `READY {json}` and runs until SIGTERM/SIGINT. The test run
 * starts it (test/helpers/global-setup.ts); its JSON names the addresses and pids.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { startDataServices } from './data-services';
import { freePort } from './free-port';

async function main(): Promise<void> {
  const dirFlag = process.argv.indexOf('--dir');
  const dir = dirFlag > 0 ? process.argv[dirFlag + 1] : undefined;
  if (!dir) throw new Error('usage: infra.ts --dir <empty directory>');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // the unprivileged postgres user must be able to reach its data directory
  const log = (source: string) => (line: string) => process.stderr.write(`[${source}] ${line}\n`);

  const [pgPort, temporalPort] = [await freePort(), await freePort()];
  const { postgres, temporal } = await startDataServices({
    dir,
    pgPort,
    temporalPort,
    database: 'flash_sale_test',
    temporalLogLevel: 'error',
    onLog: (source, line) => source === 'temporal' && /level=(ERROR|FATAL)|panic/.test(line) && log('temporal')(line),
  });

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
