import { BENCH_SECRETS } from './stack';
import type { HttpClient } from './util';

export interface BenchSale {
  id: string;
  units: number;
  holdSeconds: number;
}

/** A sale created through the admin API, so the API's own cache and defaults apply. */
export async function createBenchSale(client: HttpClient, options: { units: number; holdSeconds?: number }): Promise<BenchSale> {
  const answer = await client.post('/v1/sales', {
    token: BENCH_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'BENCH-1',
      name: 'Bench phone',
      units: options.units,
      priceCents: 99_900,
      currency: 'EUR',
      holdSeconds: options.holdSeconds,
    },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body as unknown as BenchSale;
}
