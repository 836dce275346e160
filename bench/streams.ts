/*
 * Phase streams (issue 19): claim latency while many Server-Sent Events streams are open and
 * the events they follow fan out. A sold-out waitlist sale (A) with `streams` shoppers on its
 * waitlist, each following its entry (GET …/waitlist/me/events); then `releases` of A's holds
 * are cancelled one every `releaseEveryMs`, each offering its unit to the head of the waitlist,
 * which moves every other entry up one place. Meanwhile shoppers claim on another, plain sale (B)
 * at a fixed rate (an open loop, so a slow answer does not slow the next request): B's claims
 * take real units in Postgres, so they compete with the streams' work for the API's event loop,
 * its pool and Postgres. Claims on A itself would all be 409s (its units go to the waitlist).
 * Two windows: `baseline` (streams open, no release) and `releases` (from the first cancel
 * until every stream has shown all of them). Runs on its own stack, whose API allows this many
 * streams from one address.
 */
import { Agent, request } from 'undici';
import { takeSseEvents } from '../clients/sse-events';
import { cpuMeter, type CpuShares } from './cpu';
import { createBenchSale } from './sales';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { httpClient, mintShopperToken, sleep, summarize, type HttpClient, type LatencySummary } from './util';

export interface StreamsSettings {
  streams: number;
  releases: number;
  releaseEveryMs: number;
  claimsPerSecond: number;
  baselineSeconds: number;
  /** Give up waiting for the streams after this long. */
  maxSeconds: number;
}

export interface StreamsWindow {
  seconds: number;
  claims: LatencySummary;
  /** Claim answers other than 201. */
  claimFailures: number;
  cpu: CpuShares;
}

export interface StreamsResult {
  settings: StreamsSettings;
  /** Streams answered 200 (the rest: their statuses). */
  opened: number;
  refused: Array<[string, number]>;
  baseline: StreamsWindow;
  releases: StreamsWindow & {
    /** `waitlist_feed_reads_total` of the API over the window (absent before issue 19: 0). */
    sharedReads: number;
    /** From the first cancel until the last stream showed its final view; null if some never did. */
    msUntilEveryStreamMoved: number | null;
    streamsMoved: number;
  };
}

/** The API of this phase's stack lets one address open this many streams (the caps of issue 19). */
export const STREAMS_API_ENV = { SSE_MAX_STREAMS: '20000', SSE_MAX_STREAMS_PER_IP: '20000' };

interface FollowedEntry {
  status: number;
  latest: { status?: string; position?: number } | undefined;
  /** performance.now() of the latest event. */
  at: number;
}

/** Opens one stream and keeps its latest `entry` event. */
async function follow(apiUrl: string, path: string, token: string, dispatcher: Agent, signal: AbortSignal) {
  const entry: FollowedEntry = { status: 0, latest: undefined, at: 0 };
  const response = await request(apiUrl + path, {
    headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
    dispatcher,
    signal,
  });
  entry.status = response.statusCode;
  if (response.statusCode !== 200) {
    await response.body.text().catch(() => undefined);
    return entry;
  }
  let buffer = '';
  response.body.setEncoding('utf8');
  response.body.on('error', () => undefined);
  response.body.on('data', (chunk: string) => {
    const taken = takeSseEvents(buffer + chunk);
    buffer = taken.rest;
    for (const { data } of taken.events) {
      entry.latest = data as FollowedEntry['latest'];
      entry.at = performance.now();
    }
  });
  return entry;
}

/** Claims on sale B at `perSecond`, each by a new shopper, until `stop()`; returns the latencies. */
function claimLoop(client: HttpClient, saleId: string, tokens: string[], perSecond: number) {
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  const done = (async () => {
    for (let i = 0; !stopped && next < tokens.length; i++) {
      const due = started + (i * 1000) / perSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      if (stopped) break;
      const token = tokens[next++]!;
      // Latency from the scheduled start, so a stalled loop counts against the server.
      const claim = client
        .post(`/v1/sales/${saleId}/reservations`, { token })
        .then((answer) => {
          latencies.push(performance.now() - due);
          if (answer.status !== 201) failures++;
        })
        .catch(() => {
          failures++;
        });
      inFlight.add(claim);
      void claim.finally(() => inFlight.delete(claim));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      await Promise.all(inFlight);
      return { latencies, failures };
    },
  };
}

export async function benchStreams(
  stack: BenchStack,
  options: StreamsSettings & { say: (message: string) => void },
): Promise<StreamsResult> {
  const { say, ...settings } = options;
  const { apiUrl, api } = await stack.services();
  const client = httpClient(apiUrl, 256);
  const dispatcher = new Agent({ connections: settings.streams + 8, pipelining: 1, bodyTimeout: 0, headersTimeout: 60_000 });
  const streamsAbort = new AbortController();
  try {
    const answer = await client.post('/v1/sales', {
      token: BENCH_SECRETS.ADMIN_TOKEN,
      body: {
        sku: 'BENCH-WL',
        name: 'Bench waitlist phone',
        units: settings.releases,
        priceCents: 99_900,
        currency: 'EUR',
        holdSeconds: 3_600,
        releasePolicy: 'waitlist',
      },
    });
    if (answer.status !== 201) throw new Error(`waitlist sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
    const saleA = String(answer.body.id);
    const holders = await Promise.all(
      Array.from({ length: settings.releases }, (_, i) => mintShopperToken(BENCH_SECRETS.JWT_SECRET, `st-holder-${saleA}-${i}`)),
    );
    const holds: Array<{ token: string; id: string }> = [];
    for (const token of holders) {
      const claim = await client.post(`/v1/sales/${saleA}/reservations`, { token });
      if (claim.status !== 201) throw new Error(`holder claim: ${claim.status} ${JSON.stringify(claim.body)}`);
      holds.push({ token, id: String(claim.body.id) });
    }
    say(`sale A sold out (${settings.releases} holds); ${settings.streams} shoppers join its waitlist`);
    const waiters = await Promise.all(
      Array.from({ length: settings.streams }, (_, i) => mintShopperToken(BENCH_SECRETS.JWT_SECRET, `st-waiter-${saleA}-${i}`)),
    );
    for (let i = 0; i < waiters.length; i += 64) {
      const joined = await Promise.all(
        waiters.slice(i, i + 64).map((token) => client.post(`/v1/sales/${saleA}/waitlist`, { token })),
      );
      const bad = joined.find((j) => j.status !== 201);
      if (bad) throw new Error(`waitlist join: ${bad.status} ${JSON.stringify(bad.body)}`);
    }

    say(`opening ${settings.streams} waitlist streams`);
    const entries: FollowedEntry[] = [];
    for (let i = 0; i < waiters.length; i += 100) {
      entries.push(
        ...(await Promise.all(
          waiters
            .slice(i, i + 100)
            .map((token) => follow(apiUrl, `/v1/sales/${saleA}/waitlist/me/events`, token, dispatcher, streamsAbort.signal)),
        )),
      );
    }
    const open = entries.filter((e) => e.status === 200);
    const refused = new Map<string, number>();
    for (const e of entries) if (e.status !== 200) refused.set(String(e.status), (refused.get(String(e.status)) ?? 0) + 1);
    // Every open stream has shown its first view before the windows start.
    const firstShown = await waitUntil(() => open.every((e) => e.latest !== undefined), 60_000);
    if (!firstShown) throw new Error('not every stream showed its first view');
    const startPositions = open.map((e) => e.latest?.position ?? 0);
    say(`${open.length} streams open${refused.size ? `, refused ${JSON.stringify([...refused])}` : ''}`);

    const saleB = await createBenchSale(client, { units: 200_000, holdSeconds: 3_600 });
    const claimWindowSeconds = settings.baselineSeconds + settings.maxSeconds;
    const claimTokens = await Promise.all(
      Array.from({ length: Math.ceil(settings.claimsPerSecond * (claimWindowSeconds + 5)) }, (_, i) =>
        mintShopperToken(BENCH_SECRETS.JWT_SECRET, `st-claimer-${saleB.id}-${i}`),
      ),
    );
    const pids = await stack.processes();
    let tokensUsed = 0;
    const window = async (run: () => Promise<void>) => {
      const cpu = cpuMeter(pids);
      const started = performance.now();
      const loop = claimLoop(client, saleB.id, claimTokens.slice(tokensUsed), settings.claimsPerSecond);
      await run();
      const { latencies, failures } = await loop.stop();
      tokensUsed += latencies.length;
      return {
        seconds: Math.round((performance.now() - started) / 100) / 10,
        claims: summarize(latencies),
        claimFailures: failures,
        cpu: cpu.stop(),
      };
    };

    say(`baseline: ${settings.claimsPerSecond} claims/s on sale B for ${settings.baselineSeconds} s, no release`);
    const baseline = await window(async () => {
      await sleep(settings.baselineSeconds * 1000);
    });
    say(`baseline claims p50/p95/p99 ${baseline.claims.p50}/${baseline.claims.p95}/${baseline.claims.p99} ms`);

    say(`releases: ${settings.releases} holds of sale A cancelled, one every ${settings.releaseEveryMs} ms`);
    const moved = (e: FollowedEntry, i: number) =>
      startPositions[i]! <= settings.releases
        ? e.latest?.status !== undefined && e.latest.status !== 'waiting'
        : e.latest?.position === startPositions[i]! - settings.releases;
    const sharedReads = async () =>
      Number(/^waitlist_feed_reads_total (\d+)/m.exec(await (await fetch(`${apiUrl}/metrics`)).text())?.[1] ?? 0);
    const readsBefore = await sharedReads();
    let firstCancel = 0;
    let everyMoved = false;
    const releases = await window(async () => {
      firstCancel = performance.now();
      for (const hold of holds) {
        const cancelled = await client.post(`/v1/reservations/${hold.id}/cancel`, { token: hold.token });
        if (cancelled.status !== 200) say(`cancel: ${cancelled.status} ${JSON.stringify(cancelled.body)}`);
        await sleep(settings.releaseEveryMs);
      }
      everyMoved = await waitUntil(() => open.every(moved), settings.maxSeconds * 1000);
    });
    const lastMove = Math.max(...open.map((e) => e.at));
    const result: StreamsResult = {
      settings,
      opened: open.length,
      refused: [...refused],
      baseline,
      releases: {
        ...releases,
        sharedReads: (await sharedReads()) - readsBefore,
        msUntilEveryStreamMoved: everyMoved ? Math.round(lastMove - firstCancel) : null,
        streamsMoved: open.filter(moved).length,
      },
    };
    say(
      `releases: claims p50/p95/p99 ${releases.claims.p50}/${releases.claims.p95}/${releases.claims.p99} ms; ` +
        `${result.releases.streamsMoved} of ${open.length} streams moved, the last ${String(result.releases.msUntilEveryStreamMoved)} ms after the first cancel; ` +
        `${result.releases.sharedReads} shared waitlist reads; API ${releases.cpu.processes.find((p) => p.name === 'api')?.cores ?? '?'} cores (pid ${api.pid()})`,
    );
    return result;
  } finally {
    streamsAbort.abort();
    await dispatcher.destroy().catch(() => undefined);
    await client.close();
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}
