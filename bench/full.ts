/*
 * Phase d: whole reservations per second, claim → pay → paid, closed loop with N shoppers at
 * once (each finished shopper is replaced by a new one). Needs POST /v1/reservations/:id/payment
 * and the payment provider simulator (PSP_URL; see docs/PERFORMANCE.md); skipped when the route
 * answers 404.
 */
import { createBenchSale } from './sales';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { httpClient, isSoldOut, mintShopperToken, sleep, summarize, type HttpClient, type LatencySummary } from './util';

export type FullResult =
  | { skipped: true; reason: string }
  | {
      skipped: false;
      shoppers: number;
      seconds: number;
      completed: number;
      reservationsPerSecond: number;
      failures: Record<string, number>;
      latencyMs: LatencySummary;
    };

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

export async function benchFullReservations(
  stack: BenchStack,
  options: { shoppers: number; seconds: number; units: number; say: (message: string) => void },
): Promise<FullResult> {
  const { apiUrl } = await stack.services();
  const client = httpClient(apiUrl, options.shoppers + 4, FLOW_TIMEOUT_MS);
  try {
    const sale = await createBenchSale(client, { units: options.units });
    const token = (i: number | string) => mintShopperToken(BENCH_SECRETS.JWT_SECRET, `full-${sale.id}-${i}`);

    const probeToken = await token('probe');
    const claim = await client.post(`/v1/sales/${sale.id}/reservations`, { token: probeToken });
    if (claim.status !== 201) throw new Error(`probe claim failed: ${claim.status} ${JSON.stringify(claim.body)}`);
    const payment = await client.post(`/v1/reservations/${String(claim.body.id)}/payment`, { token: probeToken, body: PAYMENT });
    if (payment.status === 404) return { skipped: true, reason: 'payment route answered 404' };
    if (payment.status !== 202) throw new Error(`probe payment answered ${payment.status} ${JSON.stringify(payment.body)}`);

    options.say(`${options.shoppers} shoppers at once, claim → pay → paid, for ${options.seconds} s`);
    const failures: Record<string, number> = {};
    const latencies: number[] = [];
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
    const seconds = (performance.now() - started) / 1000;
    if (soldOut) options.say('the sale sold out before the time was up: raise the units');
    return {
      skipped: false,
      shoppers: options.shoppers,
      seconds: Math.round(seconds * 10) / 10,
      completed: latencies.length,
      reservationsPerSecond: Math.round((latencies.length / seconds) * 10) / 10,
      failures,
      latencyMs: summarize(latencies),
    };
  } finally {
    await client.close();
  }
}
