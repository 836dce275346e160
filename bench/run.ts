/*
 * `npm run bench [-- --only claims,soldout,crowd,full,memory,cost,queue,sale,streams] [--connections N]
 * [--servers dev,cluster] [--steps 8,16,32] [--step-seconds S]
 * [--min-gain P] [--claimers 1,8,64,256] [--shoppers N --units M]`; BENCH_QUICK=1 for a run of seconds. Starts its own throwaway stack per Temporal
 * server (bench/stack.ts), measures, prints markdown tables with targets and writes
 * bench/results/. The full and cost phases run once per server, side by side;
 * the others on the first server only. What each figure means and what limits it on a 2-core
 * machine: docs/PERFORMANCE.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { PROJECT_ROOT } from '../scripts/stack/tools';
import { temporalCliPath } from '../scripts/stack/tools';
import { writeClaimsChart } from './chart';
import { benchClaims } from './claims';
import { benchCrowd } from './crowd';
import { benchFullReservations } from './full';
import { temporalServerKind, type TemporalServerKind } from '../scripts/stack/temporal-cluster';
import { benchWorkerMemory, waitForOutboxDrained } from './memory';
import { markdownReport, TARGETS, verdicts, type BenchResults } from './report';
import { benchSoldOut } from './soldout';
import { startBenchStack, type BenchStack } from './stack';
import { benchWorkflowCost } from './workflow-cost';
import { benchWaitingRoom } from './waiting-room';
import { benchSale } from './sale';
import { writeSaleChart } from './sale-chart';
import { SALE_STREAM_CAPS } from './queue-stream';
import { benchStreams, STREAMS_API_ENV } from './streams';

const PHASES = ['claims', 'soldout', 'crowd', 'full', 'memory', 'cost', 'queue', 'sale', 'streams'] as const;
type Phase = (typeof PHASES)[number];

const QUICK = process.env.BENCH_QUICK === '1';
const RESULTS = path.join(PROJECT_ROOT, 'bench', 'results');

function settings(argv: string[]) {
  const flag = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  };
  const only = flag('only');
  const phases = new Set<Phase>(only ? (only.split(',').map((p) => p.trim()) as Phase[]) : PHASES);
  for (const phase of phases) if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}; use ${PHASES.join(',')}`);
  const int = (value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`not a positive integer: ${value}`);
    return parsed;
  };
  const list = (value: string | undefined) =>
    value
      ?.split(',')
      .map((v) => v.trim())
      .filter(Boolean);
  const servers = (list(flag('servers')) ?? [temporalServerKind()]) as TemporalServerKind[];
  for (const server of servers)
    if (server !== 'dev' && server !== 'cluster') throw new Error(`unknown server ${server}; use dev,cluster`);
  const steps = (
    list(flag('steps') ?? process.env.BENCH_FULL_STEPS) ?? (QUICK ? ['4', '8', '16'] : ['8', '16', '32', '64', '128'])
  ).map((v) => int(v, 0));
  return {
    quick: QUICK,
    phases,
    claims: {
      concurrencies: (list(flag('claimers')) ?? ['1', '8', '64', '256']).map((v) => int(v, 0)),
      // Full mode runs long enough on enough units for a strategy that slows as it goes to show it.
      durationMs: QUICK ? 1_000 : 30_000,
      units: QUICK ? 50_000 : 2_000_000,
      stripes: 64,
    },
    soldout: { connections: 100, seconds: QUICK ? 2 : 5 },
    crowd: {
      units: QUICK ? 200 : 1_000,
      shoppers: QUICK ? 4_000 : 20_000,
      connections: int(flag('connections') ?? process.env.BENCH_CROWD_CONNECTIONS, 1_000),
    },
    servers,
    full: {
      steps,
      seconds: int(flag('step-seconds'), QUICK ? 5 : 30),
      minGainPercent: Number(flag('min-gain') ?? 5),
      units: QUICK ? 3_000 : 20_000,
    },
    memory: { workflows: QUICK ? 500 : 5_000 },
    cost: { perPath: QUICK ? 2 : 5 },
    queue: {
      shoppers: QUICK ? 2_000 : 20_000,
      connections: int(flag('connections') ?? process.env.BENCH_CROWD_CONNECTIONS, 1_000),
      pollSeconds: QUICK ? 2 : 5,
      claimers: QUICK ? 100 : 500,
      admitPerSecond: 50,
    },
    sale: saleSettings(flag, int),
    streams: {
      streams: int(flag('streams'), 2_000),
      releases: int(flag('releases'), 20),
      releaseEveryMs: 250,
      claimsPerSecond: int(flag('claims-per-second'), 50),
      baselineSeconds: QUICK ? 5 : 10,
      maxSeconds: 120,
    },
    apiPoolMax: int(process.env.BENCH_PG_POOL_MAX, 20),
    logDir: process.env.BENCH_LOG_DIR,
  };
}

/** Full mode 100,000 shoppers / 1,000 units, quick 10,000 / 100; `--shoppers N --units M` for any other scale. */
function saleSettings(flag: (name: string) => string | undefined, int: (value: string | undefined, fallback: number) => number) {
  const shoppers = int(flag('shoppers'), QUICK ? 10_000 : 100_000);
  const units = int(flag('units'), QUICK ? 100 : 1_000);
  return {
    shoppers,
    units,
    // Long enough for the spread arrivals to join at a rate the stack can take before the start.
    leadSeconds: int(flag('lead-seconds'), Math.max(10, Math.ceil(shoppers / 2 / 1_000))),
    burstShare: 0.5,
    admitPerSecond: int(flag('admit-per-second'), Math.max(50, Math.ceil(units / 5))),
    holdSeconds: int(flag('hold-seconds'), 20),
    // The sale's own difficulty; the surge rule adds up to 8 bits while the crowd joins.
    powDifficulty: Number(flag('difficulty') ?? 0),
    connections: int(flag('connections') ?? process.env.BENCH_CROWD_CONNECTIONS, 256),
    maxSeconds: int(flag('max-seconds'), QUICK ? 180 : 300),
    floor: { concurrency: 16, seconds: int(flag('floor-seconds'), QUICK ? 10 : 20) },
  };
}

const t0 = Date.now();
const sayer = (phase: string) => (message: string) =>
  process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(1)}s] [${phase}] ${message}\n`);

async function machineFacts(stack: BenchStack) {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  const postgres = (await db.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
  await db.end();
  const temporal = spawnSync(temporalCliPath(), ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? 'unknown';
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres,
    temporal,
    gitCommit: git('rev-parse', 'HEAD'),
    gitDirty: git('status', '--porcelain', '--untracked-files=no').length > 0,
  };
}

async function main(): Promise<void> {
  const config = settings(process.argv.slice(2));
  const say = sayer('stack');
  say(
    `${config.quick ? 'QUICK mode' : 'full mode'}; phases: ${[...config.phases].join(', ')}; servers: ${config.servers.join(', ')}`,
  );
  let stack: BenchStack | undefined;
  let stopping = false;
  const abort = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping the stack`);
    void (stack?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', () => abort('SIGINT'));
  process.on('SIGTERM', () => abort('SIGTERM'));

  const results: BenchResults = {};
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg().map((v) => Math.round(v * 10) / 10);
  let machine: Awaited<ReturnType<typeof machineFacts>> | undefined;
  try {
    const run = (phase: Phase) => config.phases.has(phase);
    // The streams phase brings its own stack (below); alone, it needs no other.
    const sharedStackPhases = [...config.phases].some((phase) => phase !== 'streams');
    for (const [index, server] of sharedStackPhases ? config.servers.entries() : []) {
      stack = await startBenchStack(sayer(`stack ${server}`), {
        apiPoolMax: config.apiPoolMax,
        logDir: config.logDir && path.join(config.logDir, server),
        temporalServer: server,
        // The sale's shoppers follow their place over streams, as the checkout page does.
        apiEnv: SALE_STREAM_CAPS,
      });
      machine ??= await machineFacts(stack);
      // Order matters: the claim statements need the database to themselves (before the services
      // start); the worker's memory is taken before the crowd adds its own held workflows. These
      // run on the first server only; the full and cost phases on every server.
      if (index === 0) await singleServerPhases(stack, config, run, results);
      if (run('full')) {
        const fullSay = sayer(`full ${server}`);
        const result = await benchFullReservations(stack, { ...config.full, say: fullSay });
        if (result.skipped) fullSay(`skipped: ${result.reason}`);
        (results.full ??= []).push({ server, result });
      }
      if (run('cost')) {
        const paths = await benchWorkflowCost(stack, { ...config.cost, say: sayer(`cost ${server}`) });
        (results.workflowCost ??= []).push({ server, paths });
      }
      if (config.servers.length > 1) {
        say(`stopping the ${server} stack`);
        await stack.stop();
        stack = undefined;
      }
    }

    if (run('streams')) {
      // Its own stack, on the first server: its API lets one address open thousands of streams.
      if (stack) await stack.stop();
      stack = undefined;
      const server = config.servers[0]!;
      stack = await startBenchStack(sayer(`stack streams ${server}`), {
        apiPoolMax: config.apiPoolMax,
        logDir: config.logDir && path.join(config.logDir, `streams-${server}`),
        temporalServer: server,
        apiEnv: STREAMS_API_ENV,
      });
      machine ??= await machineFacts(stack);
      results.streams = await benchStreams(stack, { ...config.streams, say: sayer('streams') });
    }

    const table = markdownReport(results);
    process.stdout.write(
      `\n## flash-sale bench (${config.quick ? 'QUICK mode' : 'full mode'}), ${startedAt.toISOString()}\n\n${table}\n\n`,
    );
    mkdirSync(RESULTS, { recursive: true });
    let chart: string | undefined;
    let saleChart: string | undefined;
    if (results.sale) {
      const s = results.sale.settings;
      saleChart = writeSaleChart(
        results.sale.timeline,
        `flash sale: ${s.shoppers.toLocaleString('en-US')} shoppers, ${s.units.toLocaleString('en-US')} units, ${os.cpus().length} cores`,
        path.join(RESULTS, 'sale.png'),
      );
    }
    if (results.claims?.length) {
      chart = writeClaimsChart(
        results.claims,
        `claims/s by concurrency${config.quick ? ' (quick mode)' : ''}, ${os.cpus().length} cores`,
        path.join(RESULTS, 'claims.png'),
      );
    }
    const document = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      mode: config.quick ? 'quick' : 'full',
      machine: { ...machine, loadAverageAtStart },
      settings: { ...config, phases: [...config.phases] },
      targets: TARGETS,
      results,
      chart: chart && path.relative(PROJECT_ROOT, chart),
      saleChart: saleChart && path.relative(PROJECT_ROOT, saleChart),
      table,
    };
    const json = `${JSON.stringify(document, null, 2)}\n`;
    const file = path.join(RESULTS, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, json);
    writeFileSync(path.join(RESULTS, 'latest.json'), json);
    say(
      `wrote ${path.relative(PROJECT_ROOT, file)}, bench/results/latest.json${[chart, saleChart].map((c) => (c ? `, ${path.relative(PROJECT_ROOT, c)}` : '')).join('')}`,
    );
    process.exitCode = verdicts(results).includes('FAIL') ? 1 : 0;
  } catch (error) {
    say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    if (stack?.servicesStarted()) say(`last service output:\n${stack.recentLogs().join('\n')}`);
    process.exitCode = 1;
  } finally {
    if (!stopping && stack) {
      say('stopping the stack');
      await stack.stop();
    }
  }
}

// Exit explicitly, with the run's code, even if a handle is still open.
main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error('bench failed', error);
    process.exit(1);
  },
);

type Settings = ReturnType<typeof settings>;

async function singleServerPhases(stack: BenchStack, config: Settings, run: (phase: Phase) => boolean, results: BenchResults) {
  if (run('claims'))
    results.claims = await benchClaims({ databaseUrl: stack.databaseUrl, ...config.claims, say: sayer('claims') });
  if (run('soldout')) results.soldout = await benchSoldOut(stack, { ...config.soldout, say: sayer('soldout') });
  if (run('memory')) results.workerMemory = await benchWorkerMemory(stack, { ...config.memory, say: sayer('memory') });
  if (run('crowd') || run('memory')) {
    const crowdSay = sayer('crowd');
    if (!run('crowd')) crowdSay('run for the API memory figure');
    results.crowd = await benchCrowd(stack, { ...config.crowd, say: crowdSay });
    const c = results.crowd;
    crowdSay(`${c.winners} winners, ${c.soldOut} sold-out, ${c.other} other, ${c.errors} errors in ${c.totalMs} ms`);
    if (!c.ok) {
      process.stderr.write(
        `\n!!!!!!!! FAIL: crowd winners ${c.winners} (sale shows available ${String(c.saleAfter.available)}, held ${String(c.saleAfter.held)}), expected exactly ${c.units} !!!!!!!!\n\n`,
      );
    }
    crowdSay('waiting for the outbox relay to start the crowd’s workflows');
    await waitForOutboxDrained(stack.databaseUrl, 120_000);
  }
  if (run('queue')) results.waitingRoom = await benchWaitingRoom(stack, { ...config.queue, say: sayer('queue') });
  if (run('sale')) results.sale = await benchSale(stack, { ...config.sale, say: sayer('sale') });
}
