import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { freePortRun } from '../../scripts/stack/free-port';
import { PROJECT_ROOT } from '../../scripts/stack/tools';
import { apiClient, shopperToken } from '../helpers/api-client';
import { TEST_SECRETS } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { createTestSale, waitFor } from '../helpers/sales';

/**
 * `npm run dev -- --apis 2 --workers 2` on the run's Postgres and Temporal (DATABASE_URL and
 * TEMPORAL_ADDRESS set, so the launcher starts neither): every process starts, every address is
 * printed, and the two APIs serve one sale whose workflow one of the two workers starts.
 */
let dev: ChildProcess;
let dataDir: string;
const output: string[] = [];

afterAll(async () => {
  if (dev && dev.exitCode === null && dev.signalCode === null) {
    // SIGINT, as Ctrl-C: the launcher stops its APIs, workers and simulators; SIGKILL would orphan them.
    const exited = new Promise((resolve) => dev.once('exit', resolve));
    dev.kill('SIGINT');
    const timer = setTimeout(() => dev.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('npm run dev -- --apis 2 --workers 2 starts two APIs and two workers that serve one sale, and Ctrl-C stops them', async () => {
  const { databaseUrl, temporalAddress } = testInfra();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'flash-sale-dev-'));
  const [apiPort, metricsPort, pspPort, mailPort, codecPort] = [
    await freePortRun(2),
    await freePortRun(2),
    await freePortRun(2),
    await freePortRun(2),
    await freePortRun(1),
  ];
  dev = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts', '--apis', '2', '--workers', '2'], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      ...TEST_SECRETS,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      DEV_DATA_DIR: dataDir,
      PORT: String(apiPort),
      WORKER_METRICS_PORT: String(metricsPort),
      PSP_PORT: String(pspPort),
      MAIL_SMTP_PORT: String(mailPort),
      MAIL_WEB_PORT: String(mailPort + 1),
      CODEC_SERVER_PORT: String(codecPort),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: dev.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.includes('Ctrl-C stops everything')) resolve();
    });
    readline.createInterface({ input: dev.stderr! }).on('line', (line) => output.push(line));
    dev.once('exit', (code) => reject(new Error(`npm run dev exited (${code}):\n${output.slice(-30).join('\n')}`)));
  });
  await ready;

  const printed = output.join('\n');
  const apiUrls = [apiPort, apiPort + 1].map((port) => `http://127.0.0.1:${port}`);
  for (const url of apiUrls) expect(printed).toContain(url);
  for (const port of [metricsPort, metricsPort + 1]) expect(printed).toContain(`http://127.0.0.1:${port}/metrics`);

  const [api1, api2] = apiUrls.map((url) => apiClient(url, 4));
  try {
    for (const url of apiUrls) expect((await fetch(`${url}/readyz`)).status).toBe(200);
    for (const port of [metricsPort, metricsPort + 1]) {
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('temporal_');
    }
    const sale = await createTestSale(api1!, { units: 2 });
    const token = await shopperToken(`dev-2x2-${sale.id}`);
    const claim = await api2!.post(`/v1/sales/${sale.id}/reservations`, { token });
    expect(claim.status).toBe(201);
    expect((await api1!.get(`/v1/sales/${sale.id}`)).body).toMatchObject({ available: 1, held: 1 });
    // One of the two workers' relays starts the workflow; a cancel through API 1 reaches it.
    const cancel = await waitFor(
      () => api1!.post(`/v1/reservations/${String(claim.body.id)}/cancel`, { token }),
      (answer) => answer.status === 200,
      30_000,
      'cancel through API 1',
    );
    expect(cancel.body).toMatchObject({ status: 'cancelled' });
  } finally {
    await Promise.all([api1?.close(), api2?.close()]);
  }

  const exited = new Promise<number | null>((resolve) => dev.once('exit', (code) => resolve(code)));
  dev.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(output.join('\n')).toContain('[dev] stopped');
}, 180_000);
