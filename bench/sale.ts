/*
 * Phase `sale` (issue 21): the flash sale end to end. A waiting-room sale of `units`; `shoppers`
 * arrive over a lead window before the start (1 − burstShare of them, evenly) and in a burst in
 * the first second after it (the rest); each runs bench/sale-shopper.ts. Measured: when the last
 * unit sold and when every shopper had a final answer, joins/s, every route's requests/s and
 * latency, the pre-queue's rank correlation with arrival, the invariant checker's verdict, CPU
 * per process (bench/cpu.ts) and per shopper and sold unit, peak RSS, and a timeline
 * (bench/sale-chart.ts). Then the floor comparison (bench/floor.ts).
 */
import { Client } from 'pg';
import { cpuMeter, type CpuShares } from './cpu';
import { benchFloor, type FloorResult } from './floor';
import { benchFullReservations } from './full';
import { type FinalAnswer, RouteStats, runSaleShopper, type SaleShopperContext } from './sale-shopper';
import type { SaleSample } from './sale-chart';
import { queueStreams } from './queue-stream';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { httpClient, mintShopperToken, rssSampler, sleep, summarize, type LatencySummary } from './util';

export interface SaleSettings {
  shoppers: number;
  units: number;
  leadSeconds: number;
  burstShare: number;
  admitPerSecond: number;
  holdSeconds: number;
  powDifficulty: number;
  connections: number;
  /** Shoppers still without an answer this long after the start are counted as `no-answer`. */
  maxSeconds: number;
  floor: { concurrency: number; seconds: number };
}

export interface SaleResult {
  settings: SaleSettings;
  saleId: string;
  answers: Record<FinalAnswer, number>;
  /** Seconds from the start until the last unit was paid (paid_at); null if not every unit sold. */
  secondsToSoldOut: number | null;
  secondsToEveryAnswer: number | null;
  sold: number;
  joins: { tickets: number; perSecondOverall: number; perSecondBurst: number | null; hashes: Array<[number, number]> };
  routes: Array<{
    route: string;
    requests: number;
    perSecond: number;
    statuses: Record<string, number>;
    latencyMs: LatencySummary;
  }>;
  /** Shoppers told sold out by queue/me or its stream: seconds after the last unit sold until each learned it. */
  soldOutLearned: { count: number; p50: number | null; p99: number | null; max: number | null; within2s: number };
  rankCorrelation: { prequeue: number; rho: number | null };
  invariants: { violations: number; detail: string[] };
  cpu: CpuShares;
  cpuSecondsPerShopper: number;
  cpuSecondsPerSoldUnit: number | null;
  rssPeakMb: { api: number; worker: number };
  /**
   * Crowd requests the API shed while its event loop ran late (api/crowd-shedding.ts), from its
   * `crowd_shed_total`: `refused` (429 with Retry-After) and `from-memory` (queue/me, a later poll), by route.
   */
  shed: { refused: Record<string, number>; fromMemory: number };
  timeline: SaleSample[];
  floor?: { floor: FloorResult; oursPerSecond: number | null; ratio: number | null };
}

/** Spearman's ρ between two rankings of the same n items (no ties). */
export function spearman(a: number[], b: number[]): number | null {
  const n = a.length;
  if (n < 2) return null;
  const rank = (values: number[]) => {
    const order = values.map((v, i) => [v, i] as const).sort((x, y) => x[0] - y[0]);
    const ranks = new Array<number>(n);
    order.forEach(([, i], r) => (ranks[i] = r + 1));
    return ranks;
  };
  const [ra, rb] = [rank(a), rank(b)];
  const d2 = ra.reduce((sum, r, i) => sum + (r - rb[i]!) ** 2, 0);
  return Math.round((1 - (6 * d2) / (n * (n * n - 1))) * 10_000) / 10_000;
}

export async function benchSale(
  stack: BenchStack,
  options: SaleSettings & { say: (message: string) => void },
): Promise<SaleResult> {
  const { say } = options;
  const services = await stack.services();
  const client = httpClient(services.apiUrl, options.connections, 30_000);
  const admittedClient = httpClient(services.apiUrl, 64, 30_000);
  // One connection per shopper following the stream, as browsers have; past the API's stream
  // caps the rest poll (bench/sale-shopper.ts).
  const streams = queueStreams(services.apiUrl, options.shoppers);
  // The timeline's own connection: its samples must not queue behind the crowd's requests.
  const sampler = httpClient(services.apiUrl, 1, 30_000);
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const startsAtMs = Date.now() + 3_000 + options.leadSeconds * 1000;
    const created = await client.post('/v1/sales', {
      token: BENCH_SECRETS.ADMIN_TOKEN,
      body: {
        sku: 'BENCH-SALE',
        name: 'Bench phone',
        units: options.units,
        priceCents: 99_900,
        currency: 'EUR',
        startsAt: new Date(startsAtMs).toISOString(),
        holdSeconds: options.holdSeconds,
        waitingRoom: { admitPerSecond: options.admitPerSecond, admissionSeconds: 120, powDifficulty: options.powDifficulty },
      },
    });
    if (created.status !== 201) throw new Error(`sale not created: ${created.status} ${JSON.stringify(created.body)}`);
    const saleId = String(created.body.id);
    const burst = Math.round(options.shoppers * options.burstShare);
    const spread = options.shoppers - burst;
    const arrivalMs = (i: number) =>
      i < spread
        ? startsAtMs - options.leadSeconds * 1000 + (i / Math.max(1, spread)) * (options.leadSeconds - 1) * 1000
        : startsAtMs + ((i - spread) / Math.max(1, burst)) * 1000;
    say(
      `sale ${saleId}: ${options.shoppers} shoppers (${spread} over ${options.leadSeconds} s before the start, ${burst} in its first second), ` +
        `${options.units} units, ${options.admitPerSecond} admissions/s, hold ${options.holdSeconds} s, difficulty ${options.powDifficulty}`,
    );

    const answers = Object.fromEntries(
      (['bought', 'declined', 'walked-away', 'sold-out', 'admission-expired', 'no-answer'] as const).map((a) => [a, 0]),
    ) as Record<FinalAnswer, number>;
    const stats = new RouteStats();
    const hashes = new Map<number, number>();
    const joinedAt: number[] = [];
    const queueSoldOutAt: number[] = [];
    let lastAnswerAt = 0;
    let [joined, admitted, answered, queued] = [0, 0, 0, 0];
    // Per shopper: 1 in the queue, 2 admitted or answered (the queue length is the count of 1s).
    const state = new Uint8Array(options.shoppers);
    const leaveQueue = (i: number) => {
      if (state[i] === 1) queued--;
      state[i] = 2;
    };
    const deadline = startsAtMs + options.maxSeconds * 1000;
    const ctx: SaleShopperContext = {
      client,
      admitted: admittedClient,
      streams,
      saleId,
      stats,
      over: () => Date.now() > deadline,
      now: Date.now,
      events: {
        joined: (i) => {
          joined++;
          queued++;
          state[i] = 1;
          joinedAt[i] = Date.now();
        },
        admitted: (i) => {
          admitted++;
          leaveQueue(i);
        },
        answered: (i, answer, via) => {
          leaveQueue(i);
          answered++;
          answers[answer]++;
          lastAnswerAt = Date.now();
          if (answer === 'sold-out' && via === 'queue') queueSoldOutAt.push(lastAnswerAt);
        },
        hashes: (count, difficulty) => hashes.set(difficulty, (hashes.get(difficulty) ?? 0) + count),
      },
    };

    const pids = await stack.processes();
    const meter = cpuMeter(pids);
    const [apiRss, workerRss] = [rssSampler(pids.api), rssSampler(pids.worker)];
    const firstArrival = arrivalMs(0);
    const shoppers = Array.from({ length: options.shoppers }, (_, i) =>
      sleep(Math.max(0, arrivalMs(i) - Date.now())).then(async () => {
        const token = await mintShopperToken(BENCH_SECRETS.JWT_SECRET, `sale-${saleId}-${i}`);
        await runSaleShopper(ctx, i, token).catch(() => ctx.events.answered(i, 'no-answer', 'deadline'));
      }),
    );

    const timeline: SaleSample[] = [];
    let previous = { at: Date.now(), serving: 0, answered: 0 };
    let everyone = false;
    void Promise.all(shoppers).then(() => (everyone = true));
    while (!everyone) {
      await sleep(500);
      const sale = await sampler.get(`/v1/sales/${saleId}`).catch(() => undefined);
      const room = await db.query<{ serving: number }>('select serving from waiting_rooms where sale_id = $1', [saleId]);
      const at = Date.now();
      const serving = room.rows[0]?.serving ?? 0;
      const dt = (at - previous.at) / 1000;
      timeline.push({
        t: Math.round((at - startsAtMs) / 100) / 10,
        available: Number(sale?.body.available ?? 0),
        held: Number(sale?.body.held ?? 0),
        sold: Number(sale?.body.sold ?? 0),
        queued,
        admissionsPerSecond: Math.round((serving - previous.serving) / dt),
        answersPerSecond: Math.round((answered - previous.answered) / dt),
      });
      previous = { at, serving, answered };
      if (timeline.length % 20 === 0)
        say(`t=${timeline.at(-1)!.t} s: joined ${joined}, admitted ${admitted}, answered ${answered} ${JSON.stringify(answers)}`);
    }
    const cpu = meter.stop();
    const rssPeakMb = { api: apiRss.stop().peakMb, worker: workerRss.stop().peakMb };
    const windowSeconds = (Date.now() - firstArrival) / 1000;
    say(`every shopper answered: ${JSON.stringify(answers)}`);

    const paid = await db.query<{ sold: number; last: Date | null }>(
      `select count(*)::int as sold, max(paid_at) as last from reservations where sale_id = $1 and status = 'paid'`,
      [saleId],
    );
    const sold = paid.rows[0]!.sold;
    const lastSoldMs = paid.rows[0]!.last?.getTime() ?? null;
    const prequeue = await db.query<{ arrival: string; position: number }>(
      `select t.arrival, t.position from queue_tickets t join sales s on s.id = t.sale_id
       where t.sale_id = $1 and t.joined_at < s.starts_at and t.position is not null`,
      [saleId],
    );
    const shed = await shedCounts(services.apiUrl);
    const invariants = await client.get(`/v1/admin/sales/${saleId}/invariants`, BENCH_SECRETS.ADMIN_TOKEN);
    const violations = (invariants.body.violations as Array<{ invariant: number; detail: string }> | undefined) ?? [];
    if (invariants.status !== 200) violations.push({ invariant: 0, detail: `checker answered ${invariants.status}` });
    const learned = lastSoldMs === null ? [] : queueSoldOutAt.map((at) => Math.max(0, at - lastSoldMs) / 1000);
    const learnedSummary = summarize(learned);
    const joinTimes = joinedAt.filter((t) => t !== undefined);
    const burstJoins = joinedAt.slice(spread).filter((t) => t !== undefined);
    const shopperCpu = cpu.processes.reduce((sum, p) => sum + p.cores, 0) * cpu.seconds;

    const result: SaleResult = {
      settings: options,
      saleId,
      answers,
      secondsToSoldOut: sold === options.units && lastSoldMs !== null ? round1((lastSoldMs - startsAtMs) / 1000) : null,
      secondsToEveryAnswer: answers['no-answer'] === 0 ? round1((lastAnswerAt - startsAtMs) / 1000) : null,
      sold,
      joins: {
        tickets: joinTimes.length,
        perSecondOverall: Math.round(joinTimes.length / ((Math.max(...joinTimes) - firstArrival) / 1000)),
        perSecondBurst: burstJoins.length
          ? Math.round(burstJoins.length / Math.max(1, (Math.max(...burstJoins) - startsAtMs) / 1000))
          : null,
        hashes: [...hashes].sort(([a], [b]) => a - b),
      },
      routes: [...stats.routes].map(([route, entry]) => {
        const requests = [...entry.statuses.values()].reduce((a, b) => a + b, 0);
        return {
          route,
          requests,
          perSecond: Math.round(requests / windowSeconds),
          statuses: Object.fromEntries(entry.statuses),
          latencyMs: summarize(entry.latencies),
        };
      }),
      soldOutLearned: { ...learnedSummary, within2s: learned.filter((s) => s <= 2).length },
      rankCorrelation: {
        prequeue: prequeue.rows.length,
        rho: spearman(
          prequeue.rows.map((r) => Number(r.arrival)),
          prequeue.rows.map((r) => r.position),
        ),
      },
      invariants: { violations: violations.length, detail: violations.slice(0, 5).map((v) => `${v.invariant}: ${v.detail}`) },
      cpu,
      cpuSecondsPerShopper: Math.round((shopperCpu / options.shoppers) * 10_000) / 10_000,
      cpuSecondsPerSoldUnit: sold ? Math.round((shopperCpu / sold) * 1000) / 1000 : null,
      rssPeakMb,
      shed,
      timeline,
    };
    if (options.floor.seconds > 0) {
      await settle(db, saleId, say);
      result.floor = await floorComparison(stack, options, say);
    }
    return result;
  } finally {
    await db.end();
    await Promise.all([client.close(), admittedClient.close(), sampler.close(), streams.close()]);
  }
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/** The API's `crowd_shed_total` by answer (and route, for the refused ones); zeros from an API without it. */
async function shedCounts(apiUrl: string): Promise<SaleResult['shed']> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const shed: SaleResult['shed'] = { refused: {}, fromMemory: 0 };
  for (const [, labels, value] of text.matchAll(/^crowd_shed_total\{([^}]*)\} (\d+)/gm)) {
    const route = /route="([^"]+)"/.exec(labels!)?.[1] ?? '?';
    if (labels!.includes('answer="from-memory"')) shed.fromMemory += Number(value);
    else shed.refused[route] = (shed.refused[route] ?? 0) + Number(value);
  }
  return shed;
}

/**
 * Waits, up to two minutes, until the sale's aftermath is done: no notice of it pending (the
 * sold-out notice owed to every queued shopper) and none sent in the last second. The floor and
 * the full reservations after it then share the stack with nothing of the sale.
 */
async function settle(db: Client, saleId: string, say: (message: string) => void) {
  const started = Date.now();
  let sentBefore = -1;
  for (;;) {
    const { rows } = await db.query<{ pending: number; sent: number }>(
      `select count(*) filter (where state = 'pending')::int as pending, count(*) filter (where state = 'sent')::int as sent
       from notifications where sale_id = $1`,
      [saleId],
    );
    const { pending, sent } = rows[0]!;
    if ((pending === 0 && sent === sentBefore) || Date.now() - started > 120_000) {
      say(
        `aftermath: ${sent} notices sent, ${pending} pending, ${((Date.now() - started) / 1000).toFixed(1)} s after every shopper answered`,
      );
      return;
    }
    sentBefore = sent;
    await sleep(1_000);
  }
}

async function floorComparison(stack: BenchStack, options: SaleSettings, say: (message: string) => void) {
  const { concurrency, seconds } = options.floor;
  const floor = await benchFloor(stack, { concurrency, seconds, say });
  say(`floor: ${floor.workflowsPerSecond} workflows/s at ${concurrency}`);
  const ours = await benchFullReservations(stack, {
    steps: [concurrency],
    seconds,
    units: Math.max(1_000, seconds * 200),
    minGainPercent: 0,
    say,
  });
  const oursPerSecond = ours.skipped ? null : ours.best.reservationsPerSecond;
  return {
    floor,
    oursPerSecond,
    ratio:
      oursPerSecond !== null && floor.workflowsPerSecond > 0
        ? round1((oursPerSecond / floor.workflowsPerSecond) * 10) / 10
        : null,
  };
}
