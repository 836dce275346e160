/*
 * Phase c: a crowd of distinct shoppers, one claim each, all sent at once over a bounded
 * connection pool against a small sale. The API's resident memory is sampled while it runs.
 */
import { createBenchSale } from './sales';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { httpClient, isSoldOut, mintShopperToken, rssSampler, summarize, type HttpAnswer, type LatencySummary } from './util';

export interface CrowdResult {
  units: number;
  shoppers: number;
  connections: number;
  winners: number;
  soldOut: number;
  other: number;
  /** Requests that got no HTTP answer (socket error, timeout). */
  errors: number;
  firstProblem?: string;
  /** From the first request sent until the answer of the last winner arrived. */
  msToLastUnit: number | null;
  totalMs: number;
  latencyMs: { created: LatencySummary; soldOut: LatencySummary; other: LatencySummary };
  /** What GET /v1/sales/:id says afterwards. */
  saleAfter: { available: unknown; held: unknown; sold: unknown };
  apiRss: { peakMb: number; endMb: number };
  ok: boolean;
}

export async function benchCrowd(
  stack: BenchStack,
  options: { units: number; shoppers: number; connections: number; say: (message: string) => void },
): Promise<CrowdResult> {
  const { apiUrl, api } = await stack.services();
  const client = httpClient(apiUrl, options.connections);
  try {
    const sale = await createBenchSale(client, { units: options.units });
    options.say(`minting ${options.shoppers} shopper tokens`);
    const tokens = await Promise.all(
      Array.from({ length: options.shoppers }, (_, i) => mintShopperToken(BENCH_SECRETS.JWT_SECRET, `crowd-${sale.id}-${i}`)),
    );

    options.say(`${options.shoppers} shoppers claim ${options.units} units over ${options.connections} connections`);
    const sampler = rssSampler(api.pid());
    const started = performance.now();
    let errors = 0;
    let firstError: string | undefined;
    const answers = await Promise.all(
      tokens.map((token) =>
        client.post(`/v1/sales/${sale.id}/reservations`, { token, since: started }).catch((error: unknown) => {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
          return undefined;
        }),
      ),
    );
    const totalMs = performance.now() - started;
    const rss = sampler.stop();

    const got = answers.filter((answer): answer is HttpAnswer => answer !== undefined);
    const created = got.filter((a) => a.status === 201);
    const soldOut = got.filter((a) => isSoldOut(a));
    const other = got.filter((a) => a.status !== 201 && !isSoldOut(a));
    const doneTimes = created.map((a) => a.doneAt).sort((a, b) => a - b);
    const after = await client.get(`/v1/sales/${sale.id}`);
    const winners = created.length;
    const firstOther = other[0] ? `${other[0].status} ${JSON.stringify(other[0].body).slice(0, 200)}` : undefined;
    return {
      units: options.units,
      shoppers: options.shoppers,
      connections: options.connections,
      winners,
      soldOut: soldOut.length,
      other: other.length,
      errors,
      firstProblem: firstOther ?? firstError,
      msToLastUnit: winners >= options.units ? Math.round(doneTimes[options.units - 1]!) : null,
      totalMs: Math.round(totalMs),
      latencyMs: {
        created: summarize(created.map((a) => a.ms)),
        soldOut: summarize(soldOut.map((a) => a.ms)),
        other: summarize(other.map((a) => a.ms)),
      },
      saleAfter: { available: after.body.available, held: after.body.held, sold: after.body.sold },
      apiRss: { peakMb: rss.peakMb, endMb: rss.lastMb },
      ok: winners === options.units && after.body.held === options.units && after.body.available === 0,
    };
  } finally {
    await client.close();
  }
}
