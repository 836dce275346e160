/*
 * `npm run dev`: the whole stack on one command. Embedded Postgres (unless DATABASE_URL is set),
 * the Temporal dev server with its Web UI reading payloads through the codec server (unless TEMPORAL_ADDRESS is set; TEMPORAL_SERVER=cluster
 * runs Temporal's own server on that Postgres instead, docs/TEMPORAL-CLUSTER.md), migrations, the
 * workers and the APIs (one of each unless `--apis N` / `--workers N` or DEV_APIS / DEV_WORKERS
 * ask for more: API i listens on PORT + i - 1, worker i serves metrics on WORKER_METRICS_PORT + i - 1).
 * State lives in .data/ (DEV_DATA_DIR) so a restart keeps sales, reservations and their hold
 * timers. Ctrl-C stops every process it started.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, chmodSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { developmentSecretsEnv } from '../config/development-secrets';
import { clusterPostgresFromUrl, devClusterPorts } from './temporal-cluster/config';
import { runMigrations } from './stack/migrate';
import { startEmbeddedPostgres, type RunningPostgres } from './stack/postgres';
import { serviceProcess, waitForHttp, type ServiceProcess } from './stack/service-process';
import { startTemporalCluster } from './stack/temporal-cluster';
import { startTemporalDevServer, type RunningTemporal } from './stack/temporal-server';
import { PROJECT_ROOT } from './stack/tools';
import { loadLauncherConfig } from './stack/launcher-env';
import { API_NODE_ARGS } from '../api/node-args';
import { apiEnv } from '../api/config';
import { pspEnv } from '../psp-simulator/config';
import { codecServerEnv } from '../codec-server/config';

// The flags win over DEV_APIS / DEV_WORKERS; the schema checks both.
const launcher = loadLauncherConfig({ ...process.env, ...processCountFlags(process.argv.slice(2)) });
const DATA = path.resolve(PROJECT_ROOT, launcher.DEV_DATA_DIR);
const API_PORT = Number(process.env.PORT ?? apiEnv.shape.PORT.parse(undefined));
const PSP_PORT = Number(process.env.PSP_PORT ?? pspEnv.shape.PSP_PORT.parse(undefined));
const { WORKER_METRICS_PORT, PG_PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT, MAIL_SMTP_PORT, MAIL_WEB_PORT } = launcher;
const CODEC_SERVER_PORT = Number(process.env.CODEC_SERVER_PORT ?? codecServerEnv.shape.CODEC_SERVER_PORT.parse(undefined));
const CODEC_URL = `http://127.0.0.1:${CODEC_SERVER_PORT}`;
/** The Web UI decodes payloads through the codec server (codec-server/); the token is the path's first segment. */
const CODEC_ENDPOINT = `${CODEC_URL}/${developmentSecretsEnv(process.env).CODEC_SERVER_TOKEN}`;

/** `--apis N` / `--workers N` (or `--apis=N`) as the variables they override. */
function processCountFlags(argv: string[]): NodeJS.ProcessEnv {
  const flags: NodeJS.ProcessEnv = {};
  for (const [flag, variable] of [
    ['apis', 'DEV_APIS'],
    ['workers', 'DEV_WORKERS'],
  ] as const) {
    const i = argv.indexOf(`--${flag}`);
    const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${flag}=`))?.slice(flag.length + 3);
    if (raw !== undefined) flags[variable] = raw;
  }
  return flags;
}

const say = (message: string) => process.stdout.write(`[dev] ${message}\n`);

async function timed<T>(what: string, work: () => Promise<T>): Promise<T> {
  say(`${what}…`);
  const started = Date.now();
  const result = await work();
  say(`✓ ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

async function requireFreePort(port: number, hint: string): Promise<void> {
  if (await portInUse(port)) throw new Error(`port ${port} is already in use: ${hint}`);
}

function runNodeScript(args: string[], failure: string): void {
  const result = spawnSync(process.execPath, ['--import', 'tsx', ...args], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(failure);
}

const otherTemporal = `another Temporal server runs here; set TEMPORAL_ADDRESS=127.0.0.1:${TEMPORAL_PORT} to use it, or TEMPORAL_PORT`;
const temporalLog = (line: string) => process.stdout.write(`[temporal] ${line}\n`);

async function startDevServer(): Promise<RunningTemporal> {
  await requireFreePort(TEMPORAL_PORT, otherTemporal);
  await requireFreePort(TEMPORAL_UI_PORT, 'set TEMPORAL_UI_PORT');
  return timed(`starting the Temporal dev server on 127.0.0.1:${TEMPORAL_PORT} (state in .data/temporal.db)`, () =>
    startTemporalDevServer({
      port: TEMPORAL_PORT,
      uiPort: TEMPORAL_UI_PORT,
      uiCodecEndpoint: CODEC_ENDPOINT,
      dbFile: path.join(DATA, 'temporal.db'),
      onLog: temporalLog,
    }),
  );
}

/** TEMPORAL_SERVER=cluster: Temporal's own server (built once into .tools/), state in Postgres. */
async function startCluster(databaseUrl: string): Promise<RunningTemporal> {
  runNodeScript(['scripts/temporal-cluster/build.ts'], 'the Temporal server could not be built (see above)');
  for (const port of Object.values(devClusterPorts(TEMPORAL_PORT))) await requireFreePort(port, otherTemporal);
  await requireFreePort(TEMPORAL_UI_PORT, 'set TEMPORAL_UI_PORT');
  const shards = launcher.TEMPORAL_CLUSTER_SHARDS;
  return timed(`starting the Temporal server on 127.0.0.1:${TEMPORAL_PORT} (${shards} history shards, state in Postgres)`, () =>
    startTemporalCluster({
      dir: path.join(DATA, 'temporal-cluster'),
      postgres: clusterPostgresFromUrl(databaseUrl),
      ports: devClusterPorts(TEMPORAL_PORT),
      uiPort: TEMPORAL_UI_PORT,
      uiCodecEndpoint: CODEC_ENDPOINT,
      shards,
      onLog: temporalLog,
    }),
  );
}

async function main(): Promise<void> {
  const stoppers: Array<() => Promise<void>> = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    // All at once: each stop() signals its process before its first await.
    await Promise.allSettled(stoppers.map((stop) => stop()));
    say('stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const counts = { apis: launcher.DEV_APIS, workers: launcher.DEV_WORKERS };
    mkdirSync(DATA, { recursive: true });
    chmodSync(DATA, 0o755);

    let databaseUrl = process.env.DATABASE_URL;
    let postgresData: string | undefined;
    if (!databaseUrl) {
      await requireFreePort(PG_PORT, 'set PG_PORT, or DATABASE_URL to use a server of your own');
      const postgres: RunningPostgres = await timed(`starting embedded Postgres on 127.0.0.1:${PG_PORT}`, () =>
        startEmbeddedPostgres({ dataDir: path.join(DATA, 'postgres'), port: PG_PORT, database: 'flash_sale' }),
      );
      stoppers.push(() => postgres.stop());
      for (const note of postgres.notes) say(note);
      postgresData = postgres.dataDir;
      databaseUrl = postgres.url;
    }

    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    let temporalUi = process.env.TEMPORAL_UI_URL;
    if (!temporalAddress) {
      runNodeScript(['scripts/install-temporal.js'], 'the Temporal CLI could not be installed (see above)');
      const temporal = launcher.TEMPORAL_SERVER === 'cluster' ? await startCluster(databaseUrl) : await startDevServer();
      stoppers.push(() => temporal.stop());
      temporalAddress = temporal.address;
      temporalUi = temporal.uiUrl;
    }

    await timed('applying migrations', () => runMigrations(databaseUrl));

    const apiPorts = Array.from({ length: counts.apis }, (_, i) => API_PORT + i);
    const metricsPorts = Array.from({ length: counts.workers }, (_, i) => WORKER_METRICS_PORT + i);
    for (const port of apiPorts) await requireFreePort(port, 'set PORT (API i listens on PORT + i - 1)');
    for (const port of metricsPorts)
      await requireFreePort(port, 'set WORKER_METRICS_PORT (worker i serves metrics on WORKER_METRICS_PORT + i - 1)');
    await requireFreePort(PSP_PORT, 'set PSP_PORT');
    await requireFreePort(PSP_PORT + 1, 'set PSP_PORT (the secondary gateway listens on PSP_PORT + 1)');
    await requireFreePort(MAIL_SMTP_PORT, 'set MAIL_SMTP_PORT');
    await requireFreePort(MAIL_WEB_PORT, 'set MAIL_WEB_PORT');
    await requireFreePort(CODEC_SERVER_PORT, 'set CODEC_SERVER_PORT');
    const mailUrl = `http://127.0.0.1:${MAIL_WEB_PORT}`;
    const apiUrls = apiPorts.map((port) => `http://127.0.0.1:${port}`);
    const pspUrls = [`http://127.0.0.1:${PSP_PORT}`, `http://127.0.0.1:${PSP_PORT + 1}`];
    // The entry points have no secrets of their own; development ones are handed over here.
    const secrets = developmentSecretsEnv(process.env);
    const env = {
      ...process.env,
      ...secrets,
      DATABASE_URL: databaseUrl,
      TEMPORAL_ADDRESS: temporalAddress,
      PSP_URL: process.env.PSP_URL ?? pspUrls[0],
      PSP_SECONDARY_URL: process.env.PSP_SECONDARY_URL ?? pspUrls[1],
      SMTP_URL: process.env.SMTP_URL ?? `smtp://127.0.0.1:${MAIL_SMTP_PORT}`,
      TEMPORAL_UI_URL: process.env.TEMPORAL_UI_URL ?? `http://127.0.0.1:${TEMPORAL_UI_PORT}`,
    };
    // The simulators call API 1's webhook route; any API would do (they share one database).
    const pspEnv = (name: string, port: number) => ({
      ...process.env,
      WEBHOOK_SECRET: secrets.WEBHOOK_SECRET,
      PSP_NAME: name,
      PSP_PORT: String(port),
      PSP_WEBHOOK_URL: `${apiUrls[0]}/v1/webhooks/payments`,
      PSP_DATA_FILE: path.join(DATA, `psp-${name}.jsonl`),
    });
    // With one of a kind the log prefix stays `[api]` / `[worker]`; with several, `[api-2]`.
    const nameOf = (kind: string, i: number, of: number) => (of === 1 ? kind : `${kind}-${i + 1}`);
    const services: ServiceProcess[] = [
      serviceProcess({
        name: 'mail-catcher',
        entry: 'scripts/mail-catcher.ts',
        env: { ...process.env, MAIL_SMTP_PORT: String(MAIL_SMTP_PORT), MAIL_WEB_PORT: String(MAIL_WEB_PORT) },
        onLine: (line) => process.stdout.write(`[mail] ${line}\n`),
      }),
      serviceProcess({
        name: 'codec-server',
        entry: 'codec-server/server.ts',
        env: {
          ...env,
          CODEC_SERVER_PORT: String(CODEC_SERVER_PORT),
          CODEC_SERVER_ORIGINS:
            process.env.CODEC_SERVER_ORIGINS ?? `http://127.0.0.1:${TEMPORAL_UI_PORT},http://localhost:${TEMPORAL_UI_PORT}`,
        },
        onLine: (line) => process.stdout.write(`[codec-server] ${line}\n`),
      }),
      serviceProcess({
        name: 'psp-primary',
        entry: 'psp-simulator/server.ts',
        env: pspEnv('primary', PSP_PORT),
        onLine: (line) => process.stdout.write(`[psp-primary] ${line}\n`),
      }),
      serviceProcess({
        name: 'psp-secondary',
        entry: 'psp-simulator/server.ts',
        env: pspEnv('secondary', PSP_PORT + 1),
        onLine: (line) => process.stdout.write(`[psp-secondary] ${line}\n`),
      }),
      ...metricsPorts.map((port, i) => {
        const name = nameOf('worker', i, counts.workers);
        return serviceProcess({
          name,
          entry: 'worker/main.ts',
          env: { ...env, WORKER_METRICS_ADDRESS: `127.0.0.1:${port}` },
          onLine: (line) => process.stdout.write(`[${name}] ${line}\n`),
        });
      }),
      ...apiPorts.map((port, i) => {
        const name = nameOf('api', i, counts.apis);
        return serviceProcess({
          name,
          // api/server.ts plus the development sign-in of the checkout page (POST /dev/sign-in).
          entry: 'scripts/dev-api.ts',
          nodeArgs: API_NODE_ARGS,
          env: { ...env, PORT: String(port) },
          onLine: (line) => process.stdout.write(`[${name}] ${line}\n`),
        });
      }),
    ];
    for (const service of services) {
      service.start();
      stoppers.push(() => service.stop());
      void service.exited().then((code) => {
        if (!stopping) {
          say(`${service.name} exited (code ${code}); stopping the stack`);
          void stopAll(1);
        }
      });
    }
    // A worker serves its metrics once it has connected to Temporal.
    await timed('waiting for the APIs to be ready and the workers to connect', () =>
      Promise.all([
        ...apiUrls.map((url) => waitForHttp(`${url}/readyz`, 90_000)),
        ...metricsPorts.map((port) => waitForHttp(`http://127.0.0.1:${port}/metrics`, 90_000)),
      ]),
    );

    say('');
    apiUrls.forEach((url, i) =>
      say(`${nameOf('API', i, counts.apis).padEnd(15)}${url}   (readiness: ${url}/readyz, metrics: ${url}/metrics)`),
    );
    metricsPorts.forEach((port, i) =>
      say(`${nameOf('Worker', i, counts.workers).padEnd(15)}metrics: http://127.0.0.1:${port}/metrics`),
    );
    say(`Checkout page  ${apiUrls[0]}/sales/<saleId>   (development sign-in: any shopper name)`);
    say(`Temporal UI    ${temporalUi ?? '(external cluster)'}`);
    say(`Temporal gRPC  ${temporalAddress}`);
    say(`Codec server   ${CODEC_URL}   (the Web UI's codec endpoint: payloads are encrypted, docs/OPERATIONS.md)`);
    say(`Payments       ${pspUrls[0]} (primary), ${pspUrls[1]} (secondary): simulated provider, ledger at /v1/ledger`);
    say(`Mail catcher   ${mailUrl}   (outcome e-mails; SMTP on 127.0.0.1:${MAIL_SMTP_PORT})`);
    say(`Postgres       ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}${postgresData ? `   (data in ${postgresData})` : ''}`);
    say(`Admin token    ${process.env.ADMIN_TOKEN ? '(from ADMIN_TOKEN)' : secrets.ADMIN_TOKEN}`);
    say('Shopper token  npm run token -- <shopperId>');
    say('Ctrl-C stops everything.');
  } catch (error) {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    await stopAll(1);
  }
}

void main();
