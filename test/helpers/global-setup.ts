import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { TEST_SECRETS } from './app-under-test';
import { TEST_CODEC_SERVER_TOKEN } from './temporal-client';

declare global {
  var __FLASH_SALE_INFRA__: ChildProcess | undefined;
}

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Starts the real services for the whole run: a fresh embedded Postgres and a Temporal dev
 * server, or with TEMPORAL_SERVER=cluster Temporal's own server on that Postgres
 * (scripts/stack/infra.ts), with the migrations applied. Test files read their
 * addresses from the environment this sets.
 */
export default async function globalSetup(): Promise<void> {
  const install = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'install-temporal.js')], { stdio: 'inherit' });
  if (install.status !== 0) throw new Error('could not install the Temporal CLI');
  if (process.env.TEMPORAL_SERVER === 'cluster') {
    // Builds Temporal's server once (minutes); a no-op when .tools already holds the pinned build.
    const build = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'temporal-cluster', 'build.ts')], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error('could not build the Temporal server (TEMPORAL_SERVER=cluster)');
  }

  const dir = mkdtempSync(path.join(os.tmpdir(), 'flash-sale-test-'));
  const infra = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'stack', 'infra.ts'), '--dir', dir], {
    cwd: ROOT,
    env: {
      ...process.env,
      TEMPORAL_PAYLOAD_KEYS: TEST_SECRETS.TEMPORAL_PAYLOAD_KEYS,
      CODEC_SERVER_TOKEN: TEST_CODEC_SERVER_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  globalThis.__FLASH_SALE_INFRA__ = infra;
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    // The real server also lays down its schema and registers its namespace before it is ready.
    const timeoutMs = process.env.TEMPORAL_SERVER === 'cluster' ? 240_000 : 120_000;
    const timer = setTimeout(
      () => reject(new Error(`test infrastructure did not start within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    infra.once('exit', (code) => reject(new Error(`test infrastructure exited with code ${code}`)));
    readline.createInterface({ input: infra.stdout! }).on('line', (line) => {
      if (!line.startsWith('READY ')) return;
      clearTimeout(timer);
      resolve(JSON.parse(line.slice('READY '.length)) as Record<string, unknown>);
    });
  });
  process.env.TEST_DATABASE_URL = String(ready.databaseUrl);
  process.env.TEST_TEMPORAL_ADDRESS = String(ready.temporalAddress);
  process.env.TEST_INFRA_DIR = dir;
  if (ready.temporalUiUrl) process.env.TEST_TEMPORAL_UI_URL = String(ready.temporalUiUrl);
  process.env.TEST_CODEC_URL = String(ready.codecUrl);
}
