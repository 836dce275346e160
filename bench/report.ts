/* The markdown tables `npm run bench` prints (and docs/PERFORMANCE.md quotes). */
import { CLAIM_STRATEGIES, claimRatio, type ClaimCase } from './claims';
import type { CrowdResult } from './crowd';
import type { FullRun, FullStep } from './full';
import type { WorkerMemoryResult } from './memory';
import type { SoldOutResult } from './soldout';
import type { CostRun } from './workflow-cost';
import type { WaitingRoomResult } from './waiting-room';
import type { SaleResult } from './sale';
import type { StreamsResult } from './streams';
import type { LatencySummary } from './util';

export interface BenchResults {
  claims?: ClaimCase[];
  soldout?: SoldOutResult;
  crowd?: CrowdResult;
  /** One per Temporal server. */
  full?: FullRun[];
  workerMemory?: WorkerMemoryResult;
  /** One per Temporal server. */
  workflowCost?: CostRun[];
  waitingRoom?: WaitingRoomResult;
  sale?: SaleResult;
  streams?: StreamsResult;
}

type Verdict = 'PASS' | 'MISS' | 'FAIL' | '—' | 'skipped';
interface Row {
  figure: string;
  value: string;
  target: string;
  verdict: Verdict;
}

const n = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined ? 'n/a' : value.toLocaleString('en-US', { maximumFractionDigits: digits });
const atLeast = (value: number | null | undefined, target: number): Verdict =>
  value === null || value === undefined ? 'MISS' : value >= target ? 'PASS' : 'MISS';
const atMost = (value: number | null | undefined, target: number): Verdict =>
  value === null || value === undefined ? 'MISS' : value <= target ? 'PASS' : 'MISS';
const latency = (l: LatencySummary) => (l.count ? `${n(l.p50, 1)} / ${n(l.p95, 1)} / ${n(l.p99, 1)} (n=${n(l.count)})` : 'none');

export const TARGETS = {
  vsStockRow: 2,
  vsTextbook: 8,
  /** Ours ÷ each of the seed design's own claim transactions (issue 10). */
  vsSeedTransaction: 2,
  soldOutRatio: 0.5,
  apiRssMb: 200,
  workerRssMb: 300,
  /** Temporal's work per paid reservation (issue 10). */
  paidStateTransitions: 8,
  paidHistoryEvents: 20,
  /** Issue 9: every join of the crowd answered within this; queue/me at least this share of bare node:http; admitted claims p99. */
  queueJoinsMs: 3_000,
  queuePollRatio: 0.5,
  admittedClaimP99Ms: 100,
  /** Issue 21, the sale phase: ours ÷ the floor, joins/s in full mode, seconds to learn the sale is over. */
  saleFloorRatio: 0.7,
  saleJoinsPerSecond: 2_000,
  saleSoldOutLearnedSeconds: 2,
  /** Issue 19: claims on another sale while the waitlist streams fan out, p99. */
  streamsClaimP99Ms: 100,
};

function figureRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  const { claims, soldout, crowd, full, workerMemory, workflowCost, waitingRoom } = results;
  if (claims) {
    for (const concurrency of [...new Set(claims.map((c) => c.concurrency))]) {
      const stock = claimRatio(claims, concurrency, 'stock-row');
      const textbook = claimRatio(claims, concurrency, 'textbook-skip-locked');
      const target = concurrency === 64;
      rows.push({
        figure: `claims: ours ÷ stock row, ${concurrency} claimers`,
        value: `${n(stock, 2)}×`,
        target: target ? `≥ ${TARGETS.vsStockRow}×` : '—',
        verdict: target ? atLeast(stock, TARGETS.vsStockRow) : '—',
      });
      rows.push({
        figure: `claims: ours ÷ textbook SKIP LOCKED, ${concurrency} claimers`,
        value: `${n(textbook, 2)}×`,
        target: target ? `≥ ${TARGETS.vsTextbook}×` : '—',
        verdict: target ? atLeast(textbook, TARGETS.vsTextbook) : '—',
      });
    }
    // The seed design's own transactions, compared like for like at 64 claimers (issue 10).
    for (const seed of ['seed-stock-tx', 'seed-skip-locked-tx'] as const) {
      const ratio = claimRatio(claims, 64, seed);
      if (ratio !== null)
        rows.push({
          figure: `claims: ours ÷ ${seed}, 64 claimers`,
          value: `${n(ratio, 2)}×`,
          target: `≥ ${TARGETS.vsSeedTransaction}×`,
          verdict: atLeast(ratio, TARGETS.vsSeedTransaction),
        });
    }
    const errors = claims.reduce((sum, c) => sum + c.errors, 0);
    rows.push({
      figure: 'claims: statement errors (all cases)',
      value: n(errors),
      target: '0',
      verdict: errors ? 'FAIL' : 'PASS',
    });
  }
  if (soldout) {
    rows.push(
      {
        figure: `sold-out 409: API req/s (${soldout.connections} conns)`,
        value: n(soldout.api.requestsPerSecond),
        target: '—',
        verdict: '—',
      },
      {
        figure: 'reference: API GET /healthz req/s (no auth, no Postgres)',
        value: n(soldout.apiHealthz.requestsPerSecond),
        target: '—',
        verdict: '—',
      },
      {
        figure: 'sold-out 409: bare node:http req/s',
        value: n(soldout.bareNodeHttp.requestsPerSecond),
        target: '—',
        verdict: '—',
      },
      {
        figure: 'sold-out 409: API ÷ bare node:http',
        value: `${n(soldout.ratio * 100)}%`,
        target: `≥ ${TARGETS.soldOutRatio * 100}%`,
        verdict: atLeast(soldout.ratio, TARGETS.soldOutRatio),
      },
      {
        figure: 'sold-out 409: API p50 / p99 latency (ms)',
        value: `${n(soldout.api.latencyP50Ms)} / ${n(soldout.api.latencyP99Ms)}`,
        target: '—',
        verdict: '—',
      },
      {
        figure: 'sold-out phase: unexpected answers (all three runs)',
        value: n(soldout.api.unexpected + soldout.bareNodeHttp.unexpected + soldout.apiHealthz.unexpected),
        target: '0',
        verdict: soldout.api.unexpected + soldout.bareNodeHttp.unexpected + soldout.apiHealthz.unexpected ? 'FAIL' : 'PASS',
      },
    );
  }
  if (crowd) {
    const label = `crowd ${n(crowd.shoppers)} → ${n(crowd.units)}`;
    rows.push(
      {
        figure: `${label}: winners (201)`,
        value: n(crowd.winners),
        target: `= ${n(crowd.units)}`,
        verdict: crowd.ok ? 'PASS' : 'FAIL',
      },
      {
        figure: `${label}: 409 sold-out`,
        value: n(crowd.soldOut),
        target: `= ${n(crowd.shoppers - crowd.units)}`,
        verdict: crowd.soldOut === crowd.shoppers - crowd.units ? 'PASS' : 'FAIL',
      },
      {
        figure: `${label}: other answers + errors`,
        value: `${n(crowd.other)} + ${n(crowd.errors)}`,
        target: '0',
        verdict: crowd.other + crowd.errors ? 'FAIL' : 'PASS',
      },
      { figure: `${label}: ms until the last unit's 201`, value: n(crowd.msToLastUnit), target: '—', verdict: '—' },
      { figure: `${label}: ms until every answer`, value: n(crowd.totalMs), target: '—', verdict: '—' },
      { figure: `${label}: 201 latency p50/p95/p99 ms`, value: latency(crowd.latencyMs.created), target: '—', verdict: '—' },
      { figure: `${label}: 409 latency p50/p95/p99 ms`, value: latency(crowd.latencyMs.soldOut), target: '—', verdict: '—' },
      { figure: `${label}: other latency p50/p95/p99 ms`, value: latency(crowd.latencyMs.other), target: '—', verdict: '—' },
      {
        figure: 'memory: API RSS peak during the crowd (MB)',
        value: `${n(crowd.apiRss.peakMb)} (end ${n(crowd.apiRss.endMb)})`,
        target: `≤ ${TARGETS.apiRssMb}`,
        verdict: atMost(crowd.apiRss.peakMb, TARGETS.apiRssMb),
      },
    );
  }
  if (workerMemory) {
    rows.push({
      figure: `memory: worker RSS holding ${n(workerMemory.started)} open workflows (MB)`,
      value: n(workerMemory.workerRssMb),
      target: `≤ ${TARGETS.workerRssMb}`,
      verdict: workerMemory.started < workerMemory.workflows ? 'FAIL' : atMost(workerMemory.workerRssMb, TARGETS.workerRssMb),
    });
    rows.push({
      figure: 'memory: worker / API RSS idle after start (MB)',
      value: `${n(workerMemory.idleRssMb.worker)} / ${n(workerMemory.idleRssMb.api)}`,
      target: '—',
      verdict: '—',
    });
    rows.push({
      figure: `memory: seconds until the relay started all ${n(workerMemory.workflows)}`,
      value: n(workerMemory.secondsToStartAll, 1),
      target: '—',
      verdict: '—',
    });
  }
  const runLabel = (run: { server: string }) => `${run.server} server`;
  for (const run of full ?? []) {
    const label = runLabel(run);
    if (run.result.skipped) {
      rows.push({ figure: `full reservations/s (${label})`, value: run.result.reason, target: '—', verdict: 'skipped' });
      continue;
    }
    const { best, saturated, steps } = run.result;
    const failed = steps.reduce((sum, step) => sum + failedFlows(step), 0);
    rows.push(
      {
        figure: `full reservations/s at saturation (${label})`,
        value: `${n(best.reservationsPerSecond, 1)} at ${best.shoppers} shoppers${saturated ? '' : ' (still rising)'}`,
        // Its target is the floor ratio (the sale phase): ours ÷ the minimal workflow on the same server.
        target: '—',
        verdict: '—',
      },
      { figure: `full: claim → paid p50/p95/p99 ms there (${label})`, value: latency(best.latencyMs), target: '—', verdict: '—' },
      { figure: `full: failed flows, all steps (${label})`, value: n(failed), target: '0', verdict: failed ? 'FAIL' : 'PASS' },
    );
  }
  rows.push(...sideBySide(full ?? []));
  const costLabel = (workflowCost ?? []).length > 1;
  for (const run of workflowCost ?? []) {
    for (const cost of run.paths) {
      const range = (r: { min: number; max: number }) => (r.min === r.max ? n(r.min) : `${n(r.min)}–${n(r.max)}`);
      const paid = cost.path === 'paid';
      const where = costLabel ? `, ${runLabel(run)}` : '';
      rows.push(
        {
          figure: `Temporal: history events per ${cost.path} reservation (n=${cost.workflows}${where})`,
          value: range(cost.events),
          target: paid ? `≤ ${TARGETS.paidHistoryEvents}` : '—',
          verdict: paid ? atMost(cost.events.max, TARGETS.paidHistoryEvents) : '—',
        },
        {
          figure: `Temporal: state transitions per ${cost.path} reservation (n=${cost.workflows}${where})`,
          value: range(cost.stateTransitions),
          target: paid ? `≤ ${TARGETS.paidStateTransitions}` : '—',
          verdict: paid ? atMost(cost.stateTransitions.max, TARGETS.paidStateTransitions) : '—',
        },
      );
    }
  }
  if (waitingRoom) {
    const { joins, poll, admittedClaims } = waitingRoom;
    const label = `waiting room: ${n(joins.shoppers)} join at once (${n(joins.connections)} connections)`;
    rows.push(
      {
        figure: `${label}: tickets (failures)${joins.difficulties?.length ? `; challenges by difficulty ${joins.difficulties.map(([d, count]) => `${d}: ${n(count)}`).join(', ')}` : ''}`,
        value: `${n(joins.tickets)} (${n(joins.failures)})`,
        target: `= ${n(joins.shoppers)}`,
        verdict: joins.tickets === joins.shoppers ? 'PASS' : 'FAIL',
      },
      {
        figure: `${label}: ms until the last ticket${joins.fastPathShare === undefined ? '' : ` (${Math.round(joins.fastPathShare * 100)} % of challenges and joins by the fast path)`}`,
        value: n(joins.msToLastTicket),
        target: `≤ ${n(TARGETS.queueJoinsMs)}`,
        verdict: atMost(joins.msToLastTicket, TARGETS.queueJoinsMs),
      },
      { figure: `${label}: join latency p50/p95/p99 ms`, value: latency(joins.latencyMs), target: '—', verdict: '—' },
      {
        figure: `waiting room: queue/me req/s ÷ bare node:http (${n(poll.apiRps)} / ${n(poll.bareRps)}, ${poll.connections} connections${poll.fastPathShare === undefined ? '' : `, ${Math.round(poll.fastPathShare * 100)} % by the fast path`})`,
        value: n(poll.ratio, 2),
        target: `≥ ${TARGETS.queuePollRatio}`,
        verdict: poll.apiUnexpected ? 'FAIL' : atLeast(poll.ratio, TARGETS.queuePollRatio),
      },
      {
        figure: `waiting room: claim latency of admitted shoppers p50/p95/p99 ms (${n(admittedClaims.admitPerSecond)} admitted/s, ${n(admittedClaims.created)} of ${n(admittedClaims.shoppers)} claimed)`,
        value: latency(admittedClaims.latencyMs),
        target: `p99 ≤ ${TARGETS.admittedClaimP99Ms}`,
        verdict:
          admittedClaims.created !== admittedClaims.shoppers
            ? 'FAIL'
            : atMost(admittedClaims.latencyMs.p99, TARGETS.admittedClaimP99Ms),
      },
    );
  }
  if (results.sale) rows.push(...saleRows(results.sale));
  if (results.streams) rows.push(...streamsRows(results.streams));
  return rows;
}

function streamsRows(streams: StreamsResult): Row[] {
  const s = streams.settings;
  const label = `streams: ${n(streams.opened)} waitlist streams open, claims at ${n(s.claimsPerSecond)}/s on another sale`;
  const cores = (cpu: StreamsResult['baseline']['cpu'], name: string) => n(cpu.processes.find((p) => p.name === name)?.cores, 2);
  const api = (cpu: StreamsResult['baseline']['cpu']) => `${cores(cpu, 'api')}, Postgres ${cores(cpu, 'postgres')}`;
  return [
    {
      figure: `${label}: streams opened of ${n(s.streams)}${streams.refused.length ? ` (refused ${JSON.stringify(streams.refused)})` : ''}`,
      value: n(streams.opened),
      target: `= ${n(s.streams)}`,
      verdict: streams.opened === s.streams ? 'PASS' : 'FAIL',
    },
    {
      figure: `${label}, no release: claim latency p50/p95/p99 ms (API ${api(streams.baseline.cpu)} cores, ${n(streams.baseline.claimFailures)} failed)`,
      value: latency(streams.baseline.claims),
      target: '—',
      verdict: '—',
    },
    {
      figure: `${label}, ${n(s.releases)} releases: claim latency p50/p95/p99 ms (API ${api(streams.releases.cpu)} cores, ${n(streams.releases.claimFailures)} failed)`,
      value: latency(streams.releases.claims),
      target: `p99 ≤ ${TARGETS.streamsClaimP99Ms}`,
      verdict: atMost(streams.releases.claims.p99, TARGETS.streamsClaimP99Ms),
    },
    {
      figure: `${label}: ms from the first release until every stream showed all ${n(s.releases)} (${n(streams.releases.streamsMoved)} did; ${n(streams.releases.sharedReads)} shared waitlist reads)`,
      value: n(streams.releases.msUntilEveryStreamMoved),
      target: 'every stream',
      verdict: streams.releases.msUntilEveryStreamMoved === null ? 'FAIL' : '—',
    },
  ];
}

function saleRows(sale: SaleResult): Row[] {
  const s = sale.settings;
  const label = `sale ${n(s.shoppers)} → ${n(s.units)}`;
  const a = sale.answers;
  const fiveXx = sale.routes.reduce(
    (sum, r) => sum + Object.entries(r.statuses).reduce((x, [code, count]) => x + (code.startsWith('5') ? count : 0), 0),
    0,
  );
  const claims = sale.routes.find((r) => r.route === 'POST reservations');
  const rows: Row[] = [
    {
      figure: `${label}: answers bought / declined / walked away / sold out / admission expired / none`,
      value: `${n(a.bought)} / ${n(a.declined)} / ${n(a['walked-away'])} / ${n(a['sold-out'])} / ${n(a['admission-expired'])} / ${n(a['no-answer'])}`,
      target: 'none = 0',
      verdict: a['no-answer'] ? 'MISS' : 'PASS',
    },
    {
      figure: `${label}: units sold; seconds from the start to the last sold`,
      value: `${n(sale.sold)}; ${n(sale.secondsToSoldOut, 1)}`,
      target: `= ${n(s.units)}`,
      verdict: sale.sold === s.units ? 'PASS' : 'MISS',
    },
    {
      figure: `${label}: seconds from the start until every shopper answered`,
      value: n(sale.secondsToEveryAnswer, 1),
      target: '—',
      verdict: '—',
    },
    {
      figure: `${label}: joins/s in the burst (overall); hashes by difficulty ${sale.joins.hashes.map(([d, h]) => `${d}: ${n(h)}`).join(', ')}`,
      value: `${n(sale.joins.perSecondBurst)} (${n(sale.joins.perSecondOverall)})`,
      target: `≥ ${n(TARGETS.saleJoinsPerSecond)} (full mode)`,
      verdict: atLeast(sale.joins.perSecondBurst, TARGETS.saleJoinsPerSecond),
    },
    ...sale.routes.map((r): Row => ({
      figure: `${label}: ${r.route}: requests (/s), answers by status, p50/p95/p99 ms`,
      value: `${n(r.requests)} (${n(r.perSecond)}/s), ${Object.entries(r.statuses)
        .map(([code, count]) => `${code}: ${n(count)}`)
        .join(' ')}, ${latency(r.latencyMs)}`,
      target: '—',
      verdict: '—',
    })),
    {
      figure: `${label}: crowd requests shed by the API (crowd_shed_total): 429 by route; queue/me from memory with a later poll`,
      value: `${
        Object.entries(sale.shed?.refused ?? {})
          .map(([route, count]) => `${route} ${n(count)}`)
          .join(', ') || 'none'
      }; ${n(sale.shed?.fromMemory ?? 0)}`,
      target: '—',
      verdict: '—',
    },
    {
      figure: `${label}: 5xx answers to shoppers (all routes)`,
      value: n(fiveXx),
      target: '0',
      verdict: fiveXx ? 'MISS' : 'PASS',
    },
    {
      figure: `${label}: admitted claims p99 ms`,
      value: n(claims?.latencyMs.p99, 1),
      target: `≤ ${TARGETS.admittedClaimP99Ms}`,
      verdict: atMost(claims?.latencyMs.p99, TARGETS.admittedClaimP99Ms),
    },
    {
      figure: `${label}: queued shoppers told sold out by queue/me or its stream (n=${n(sale.soldOutLearned.count)}): s after the last unit sold p50 / p99 / max; within 2 s`,
      value: `${n(sale.soldOutLearned.p50, 1)} / ${n(sale.soldOutLearned.p99, 1)} / ${n(sale.soldOutLearned.max, 1)}; ${n(sale.soldOutLearned.within2s)}`,
      target: `max ≤ ${TARGETS.saleSoldOutLearnedSeconds}`,
      verdict: sale.soldOutLearned.count === 0 ? 'MISS' : atMost(sale.soldOutLearned.max, TARGETS.saleSoldOutLearnedSeconds),
    },
    {
      figure: `${label}: pre-queue rank correlation with arrival (Spearman ρ, n=${n(sale.rankCorrelation.prequeue)})`,
      value: n(sale.rankCorrelation.rho, 4),
      target: `|ρ| < 4/√n = ${n(4 / Math.sqrt(Math.max(1, sale.rankCorrelation.prequeue - 1)), 3)}`,
      verdict:
        sale.rankCorrelation.rho === null
          ? 'MISS'
          : Math.abs(sale.rankCorrelation.rho) < 4 / Math.sqrt(Math.max(1, sale.rankCorrelation.prequeue - 1))
            ? 'PASS'
            : 'FAIL',
    },
    {
      figure: `${label}: invariant checker${sale.invariants.detail.length ? ` (${sale.invariants.detail.join('; ')})` : ''}`,
      value: `${n(sale.invariants.violations)} violations`,
      target: '0',
      verdict: sale.invariants.violations ? 'FAIL' : 'PASS',
    },
    {
      figure: `${label}: CPU seconds per process over ${n(sale.cpu.seconds, 1)} s (others on the machine)`,
      value: `${sale.cpu.processes.map((p) => `${p.name} ${n(p.cores * sale.cpu.seconds, 1)}`).join(', ')} (others ${n(sale.cpu.otherCores * sale.cpu.seconds, 1)})`,
      target: '—',
      verdict: '—',
    },
    {
      figure: `${label}: CPU seconds per shopper / per sold unit (all our processes)`,
      value: `${n(sale.cpuSecondsPerShopper, 4)} / ${n(sale.cpuSecondsPerSoldUnit, 3)}`,
      target: '—',
      verdict: '—',
    },
    {
      figure: `${label}: API / worker RSS peak (MB)`,
      value: `${n(sale.rssPeakMb.api)} / ${n(sale.rssPeakMb.worker)}`,
      target: `≤ ${TARGETS.apiRssMb} / ≤ ${TARGETS.workerRssMb}`,
      verdict: sale.rssPeakMb.api <= TARGETS.apiRssMb && sale.rssPeakMb.worker <= TARGETS.workerRssMb ? 'PASS' : 'MISS',
    },
  ];
  if (sale.floor) {
    const { floor, oursPerSecond, ratio } = sale.floor;
    rows.push(
      {
        figure: `floor: minimal workflow (start, update, activity, complete) per s at ${floor.concurrency} at once (n=${n(floor.completed)}, ${n(floor.failed)} failed)`,
        value: n(floor.workflowsPerSecond, 1),
        target: '—',
        verdict: '—',
      },
      {
        figure: `full reservations/s at ${floor.concurrency} at once ÷ floor (${n(oursPerSecond, 1)} / ${n(floor.workflowsPerSecond, 1)})`,
        value: `${n(ratio, 2)}×`,
        target: `≥ ${TARGETS.saleFloorRatio}×`,
        verdict: atLeast(ratio, TARGETS.saleFloorRatio),
      },
    );
  }
  return rows;
}

const failedFlows = (step: FullStep) => Object.values(step.failures).reduce((a, b) => a + b, 0);

/** Ratios of the saturation rates: each server against the first. */
function sideBySide(runs: FullRun[]): Row[] {
  const rate = (run: FullRun) => (run.result.skipped ? null : run.result.best.reservationsPerSecond);
  const rows: Row[] = [];
  const ratio = (a: FullRun, b: FullRun, figure: string) => {
    const [x, y] = [rate(a), rate(b)];
    if (x !== null && y !== null && y > 0) rows.push({ figure, value: `${n(x / y, 2)}×`, target: '—', verdict: '—' });
  };
  const [first, ...others] = runs;
  for (const run of others) ratio(run, first!, `full at saturation: ${run.server} ÷ ${first!.server} server`);
  return rows;
}

/** Every step of every full phase: rate, gain, latency and the CPU each process used (cores). */
function fullStepsTable(runs: FullRun[]): string {
  const names = [
    ...new Set(
      runs.flatMap((run) => (run.result.skipped ? [] : run.result.steps.flatMap((s) => s.cpu.processes.map((p) => p.name)))),
    ),
  ];
  const head = `| server | shoppers | reservations/s | gain over best before | p50 / p99 ms | failed | ${names.map((name) => `CPU ${name}`).join(' | ')} | CPU others | machine busy |`;
  const rule = `|---|---:|---:|---:|---:|---:|${names.map(() => '---:').join('|')}|---:|---:|`;
  const lines = runs.flatMap((run) =>
    run.result.skipped
      ? []
      : run.result.steps.map((step) => {
          const isBest = !run.result.skipped && step === run.result.best;
          const cpu = names.map((name) => n(step.cpu.processes.find((p) => p.name === name)?.cores, 2));
          return `| ${run.server} | ${step.shoppers} | ${isBest ? '**' : ''}${n(step.reservationsPerSecond, 1)}${isBest ? '**' : ''} | ${step.gainPercent === null ? '—' : `${n(step.gainPercent, 1)} %`} | ${n(step.latencyMs.p50)} / ${n(step.latencyMs.p99)} | ${n(failedFlows(step))} | ${cpu.join(' | ')} | ${n(step.cpu.otherCores, 2)} | ${n(step.cpu.machineBusyCores, 2)} of ${step.cpu.cpus} |`;
        }),
  );
  return [head, rule, ...lines].join('\n');
}

function claimsTable(claims: ClaimCase[]): string {
  const concurrencies = [...new Set(claims.map((c) => c.concurrency))];
  const head = `| claims/s | ${concurrencies.map((c) => `${c} claimers`).join(' | ')} |`;
  const rule = `|---|${concurrencies.map(() => '---:').join('|')}|`;
  const lines = CLAIM_STRATEGIES.map(
    (strategy) =>
      `| ${strategy} | ${concurrencies.map((c) => n(claims.find((k) => k.strategy === strategy && k.concurrency === c)?.claimsPerSecond)).join(' | ')} |`,
  );
  const decayHead = `| last fifth ÷ first fifth of the run | ${concurrencies.map((c) => `${c} claimers`).join(' | ')} |`;
  const decayLines = CLAIM_STRATEGIES.map(
    (strategy) =>
      `| ${strategy} | ${concurrencies.map((c) => n(claims.find((k) => k.strategy === strategy && k.concurrency === c)?.decay, 2)).join(' | ')} |`,
  );
  return [head, rule, ...lines, '', decayHead, rule, ...decayLines].join('\n');
}

export function markdownReport(results: BenchResults): string {
  const parts: string[] = [];
  if (results.claims?.length) parts.push(claimsTable(results.claims));
  if (results.full?.some((run) => !run.result.skipped)) parts.push(fullStepsTable(results.full));
  const rows = figureRows(results);
  parts.push(
    [
      '| figure | value | target | verdict |',
      '|---|---:|---|---|',
      ...rows.map((r) => `| ${r.figure} | ${r.value} | ${r.target} | ${r.verdict} |`),
    ].join('\n'),
  );
  return parts.join('\n\n');
}

export function verdicts(results: BenchResults): Verdict[] {
  return figureRows(results).map((row) => row.verdict);
}
