/*
 * Phase b: how fast the real API says "sold out", against bare node:http saying the same bytes.
 * autocannon runs in this process and shares the 2 cores with whichever server it loads.
 */
import autocannon from 'autocannon';
import { freePort } from '../scripts/stack/free-port';
import { serviceProcess, waitForHttp } from '../scripts/stack/service-process';
import { createBenchSale } from './sales';
import type { BenchStack } from './stack';
import { BENCH_SECRETS } from './stack';
import { httpClient, isSoldOut, mintShopperToken } from './util';

export interface LoadRun {
  requestsPerSecond: number;
  requests: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Answers with another status than 409, plus socket errors and timeouts. */
  unexpected: number;
  statusCounts: Record<string, number>;
}

export interface SoldOutResult {
  connections: number;
  seconds: number;
  api: LoadRun;
  bareNodeHttp: LoadRun;
  /** GET /healthz on the same API: Express and its middleware without auth or Postgres, for reference. */
  apiHealthz: LoadRun;
  ratio: number;
}

async function load(
  url: string,
  token: string | undefined,
  connections: number,
  seconds: number,
  expected = '409',
): Promise<LoadRun> {
  if (!url.startsWith('http://127.0.0.1:')) throw new Error(`refusing to load ${url}`);
  const result = await autocannon({
    url,
    method: token ? 'POST' : 'GET',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    connections,
    duration: seconds,
    timeout: 10,
  });
  const statusCounts = Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, stats]) => [code, stats.count]));
  const unexpected =
    Object.entries(statusCounts).reduce((sum, [code, count]) => sum + (code === expected ? 0 : count), 0) +
    result.errors +
    result.timeouts;
  return {
    requestsPerSecond: Math.round(result.requests.average),
    requests: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    unexpected,
    statusCounts,
  };
}

export async function benchSoldOut(
  stack: BenchStack,
  options: { connections: number; seconds: number; say: (message: string) => void },
): Promise<SoldOutResult> {
  const { apiUrl } = await stack.services();
  const client = httpClient(apiUrl, 4);
  let body: string;
  let url: string;
  let loser: string;
  try {
    const sale = await createBenchSale(client, { units: 1 });
    const winner = await client.post(`/v1/sales/${sale.id}/reservations`, {
      token: await mintShopperToken(BENCH_SECRETS.JWT_SECRET, `soldout-winner-${sale.id}`),
    });
    if (winner.status !== 201) throw new Error(`the one unit was not claimed: ${winner.status} ${JSON.stringify(winner.body)}`);
    loser = await mintShopperToken(BENCH_SECRETS.JWT_SECRET, `soldout-loser-${sale.id}`);
    url = `${apiUrl}/v1/sales/${sale.id}/reservations`;
    const probe = await client.post(`/v1/sales/${sale.id}/reservations`, { token: loser });
    if (!isSoldOut(probe)) throw new Error(`expected 409 sold-out, got ${probe.status} ${JSON.stringify(probe.body)}`);
    body = JSON.stringify(probe.body);
  } finally {
    await client.close();
  }

  options.say(`API: autocannon ${options.connections} connections for ${options.seconds} s`);
  const api = await load(url, loser, options.connections, options.seconds);
  options.say(`API: ${api.requestsPerSecond} req/s (${api.unexpected} unexpected answers)`);

  options.say(`API GET /healthz (reference): autocannon ${options.connections} connections for ${options.seconds} s`);
  const apiHealthz = await load(`${apiUrl}/healthz`, undefined, options.connections, options.seconds, '200');
  options.say(`API GET /healthz: ${apiHealthz.requestsPerSecond} req/s`);

  const port = await freePort();
  const bare = serviceProcess({
    name: 'bare-409',
    entry: 'bench/bare-409-server.ts',
    env: { ...process.env, PORT: String(port), BARE_BODY: body },
  });
  bare.start();
  try {
    const bareUrl = `http://127.0.0.1:${port}/v1/sales/x/reservations`;
    await waitForHttp(bareUrl, 20_000, (status) => status === 409);
    options.say(`bare node:http: autocannon ${options.connections} connections for ${options.seconds} s`);
    const bareNodeHttp = await load(bareUrl, loser, options.connections, options.seconds);
    options.say(`bare node:http: ${bareNodeHttp.requestsPerSecond} req/s`);
    const ratio = bareNodeHttp.requestsPerSecond
      ? Math.round((api.requestsPerSecond / bareNodeHttp.requestsPerSecond) * 100) / 100
      : 0;
    return { connections: options.connections, seconds: options.seconds, api, bareNodeHttp, apiHealthz, ratio };
  } finally {
    await bare.stop();
  }
}
