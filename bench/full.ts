/*
 * Phase d: whole reservations per second, claim → pay → paid, and where they stop rising. Closed
 * loops of N shoppers at once (each finished shopper is replaced by a new one) for a fixed time,
 * N rising step by step (8, 16, 32, 64, 128 by default) until a step gains less than
 * `minGainPercent` over the best step before it: the best step is the saturation point. Each
 * step also records the CPU each process of the stack used (bench/cpu.ts). Needs
 * POST /v1/reservations/:id/payment and the payment provider simulator (PSP_URL; see
 * docs/PERFORMANCE.md); skipped when the route answers 404.
 */
import { cpuMeter, type CpuShares } from './cpu';
import { createBenchSale } from './sales';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { closedLoopFigures, httpClient, isSoldOut, mintShopperToken, sleep, type HttpClient, type LatencySummary } from './util';

export interface FullStep {
  shoppers: number;
  seconds: number;
  completed: number;
  reservationsPerSecond: number;
  /** Rate ÷ the best rate of the steps before, minus 1, in percent; null for the first step. */
  gainPercent: number | null;
  failures: Record<string, number>;
  latencyMs: LatencySummary;
  cpu: CpuShares;
  soldOut: boolean;
}

export type FullResult =
  | { skipped: true; reason: string }
  | {
      skipped: false;
      /** Every step run, in order. */
      steps: FullStep[];
      /** The step with the highest rate. */
      best: FullStep;
      /** True when a step gained less than the rule asks; false when the steps ran out first. */
      saturated: boolean;
      minGainPercent: number;
    };

/** One full phase: which server it ran on, and what it found. */
export interface FullRun {
  server: string;
  result: FullResult;
}

const PAYMENT = { paymentMethod: 'tok_visa' };
const FLOW_TIMEOUT_MS = 30_000;
const POLL_MS = 100;

type FlowOutcome = { kind: 'paid'; ms: number } | { kind: 'sold-out' } | { kind: 'failed'; why: string };

async function oneReservation(client: HttpClient, saleId: string, token: string): Promise<FlowOutcome> {
  const started = performance.now();
  const claim = await client.post(`/v1/sales/${saleId}/reservations`, { token });
  if (isSoldOut(claim)) return { kind: 'sold-out' };
  if (claim.status !== 201) return { kind: 'failed', why: `claim ${claim.status}` };
  const id = String(claim.body.id);
  const payment = await client.post(`/v1/reservations/${id}/payment`, { token, body: PAYMENT });
  if (payment.status !== 202) return { kind: 'failed', why: `payment ${payment.status}` };
  const deadline = started + FLOW_TIMEOUT_MS;
  while (performance.now() < deadline) {
    const view = await client.get(`/v1/reservations/${id}`, token);
    const status = String(view.body.status);
    if (status === 'paid') return { kind: 'paid', ms: performance.now() - started };
    if (view.status !== 200 || !['held', 'payment_pending'].includes(status)) return { kind: 'failed', why: `status ${status}` };
    await sleep(POLL_MS);
  }
  return { kind: 'failed', why: 'not paid within 30 s' };
}

/** Whether a step's rate stops the search: less than `minGainPercent` above the best before it. */
export function gainOver(previousBest: number | null, rate: number): number | null {
  if (previousBest === null) return null;
  if (previousBest === 0) return rate > 0 ? Infinity : 0;
  return Math.round((rate / previousBest - 1) * 1000) / 10;
}

async function runStep(
  client: HttpClient,
  stack: BenchStack,
  options: { shoppers: number; seconds: number; units: number },
): Promise<Omit<FullStep, 'gainPercent'>> {
  const sale = await createBenchSale(client, { units: options.units });
  const token = (i: number) => mintShopperToken(BENCH_SECRETS.JWT_SECRET, `full-${sale.id}-${i}`);
  const failures: Record<string, number> = {};
  const latencies: number[] = [];
  const meter = cpuMeter(await stack.processes());
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  let next = 0;
  let soldOut = false;
  const lane = async () => {
    while (performance.now() < deadline && !soldOut && next < options.units) {
      const outcome = await oneReservation(client, sale.id, await token(next++)).catch((error: unknown): FlowOutcome => ({
        kind: 'failed',
        why: error instanceof Error ? error.message : String(error),
      }));
      if (outcome.kind === 'paid') latencies.push(outcome.ms);
      else if (outcome.kind === 'sold-out') soldOut = true;
      else failures[outcome.why] = (failures[outcome.why] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.shoppers }, lane));
  const cpu = meter.stop();
  const { perSecond, ...figures } = closedLoopFigures(latencies, started);
  return { shoppers: options.shoppers, ...figures, reservationsPerSecond: perSecond, failures, cpu, soldOut };
}

export async function benchFullReservations(
  stack: BenchStack,
  options: {
    steps: number[];
    seconds: number;
    units: number;
    minGainPercent: number;
    /** Pause between steps, so the last step's tail (workflows closing, e-mails) lands outside the next. */
    settleMs?: number;
    say: (message: string) => void;
  },
): Promise<FullResult> {
  const { apiUrl } = await stack.services();
  const client = httpClient(apiUrl, Math.max(...options.steps) + 4, FLOW_TIMEOUT_MS);
  try {
    const probeSale = await createBenchSale(client, { units: 1 });
    const probeToken = await mintShopperToken(BENCH_SECRETS.JWT_SECRET, `full-${probeSale.id}-probe`);
    const claim = await client.post(`/v1/sales/${probeSale.id}/reservations`, { token: probeToken });
    if (claim.status !== 201) throw new Error(`probe claim failed: ${claim.status} ${JSON.stringify(claim.body)}`);
    const payment = await client.post(`/v1/reservations/${String(claim.body.id)}/payment`, { token: probeToken, body: PAYMENT });
    if (payment.status === 404) return { skipped: true, reason: 'payment route answered 404' };
    if (payment.status !== 202) throw new Error(`probe payment answered ${payment.status} ${JSON.stringify(payment.body)}`);

    const steps: FullStep[] = [];
    let best: FullStep | undefined;
    let saturated = false;
    for (const shoppers of options.steps) {
      if (steps.length > 0) await sleep(options.settleMs ?? 2_000);
      options.say(`${shoppers} shoppers at once, claim → pay → paid, for ${options.seconds} s`);
      const run = await runStep(client, stack, { shoppers, seconds: options.seconds, units: options.units });
      const step: FullStep = { ...run, gainPercent: gainOver(best?.reservationsPerSecond ?? null, run.reservationsPerSecond) };
      steps.push(step);
      const failed = Object.values(step.failures).reduce((a, b) => a + b, 0);
      options.say(
        `${shoppers} shoppers: ${step.reservationsPerSecond}/s (${step.gainPercent === null ? 'first step' : `${step.gainPercent} % over the best before`}), ` +
          `p99 ${String(step.latencyMs.p99)} ms, ${failed} failed; CPU ${step.cpu.processes.map((p) => `${p.name} ${p.cores}`).join(', ')}, others ${step.cpu.otherCores} (cores)`,
      );
      if (step.soldOut) options.say('the sale sold out before the time was up: raise the units');
      if (!best || step.reservationsPerSecond > best.reservationsPerSecond) best = step;
      if (step.gainPercent !== null && step.gainPercent < options.minGainPercent) {
        saturated = true;
        break;
      }
    }
    return { skipped: false, steps, best: best!, saturated, minGainPercent: options.minGainPercent };
  } finally {
    await client.close();
  }
}
