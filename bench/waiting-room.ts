/*
 * Phase q (issue 9): the waiting room. (1) A crowd joins a waiting-room sale at once (challenge +
 * queue per shopper; the sale asks for difficulty 0 so the figure is the server's, not the proof
 * of work's, which runs on the shopper's machine; the surge rule raises it by a few bits as the
 * crowd joins, and the bench solves that, a few hundred hashes at most): time until every
 * shopper has a ticket, and join latency.
 * (2) GET queue/me polled by autocannon, against bare node:http sending the same body.
 * (3) Claim latency of admitted shoppers at the sale's admission rate.
 */
import autocannon from 'autocannon';
import { solveChallenge } from '../clients/waiting-room-client';
import { freePort } from '../scripts/stack/free-port';
import { serviceProcess, waitForHttp } from '../scripts/stack/service-process';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { httpClient, mintShopperToken, sleep, summarize, type HttpClient, type LatencySummary } from './util';

export interface WaitingRoomResult {
  joins: {
    shoppers: number;
    connections: number;
    tickets: number;
    failures: number;
    /** Failure kinds (status and problem type, or the socket error) and their counts. */
    failureKinds: Array<[string, number]>;
    /** Challenges by difficulty: the surge rule raises it above the sale's 0 while the crowd joins. */
    difficulties?: Array<[number, number]>;
    msToLastTicket: number;
    latencyMs: LatencySummary;
    /** Share of the challenge and queue answers written by the fast path in front of Express (api/join-fast-path.ts). */
    fastPathShare?: number;
  };
  poll: {
    connections: number;
    seconds: number;
    apiRps: number;
    bareRps: number;
    ratio: number;
    apiUnexpected: number;
    /** Share of the API's answers written by the fast path in front of Express (api/queue-me-fast-path.ts). */
    fastPathShare?: number;
  };
  admittedClaims: { shoppers: number; admitPerSecond: number; created: number; latencyMs: LatencySummary };
}

async function waitingRoomSale(client: HttpClient, units: number, admitPerSecond: number): Promise<string> {
  const answer = await client.post('/v1/sales', {
    token: BENCH_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'BENCH-WR',
      name: 'Bench phone',
      units,
      priceCents: 99_900,
      currency: 'EUR',
      waitingRoom: { admitPerSecond, admissionSeconds: 600, powDifficulty: 0 },
    },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return String(answer.body.id);
}

/** Above this the bench would spend its CPU on proof of work, not on asking the server. */
const MAX_BENCH_DIFFICULTY = 10;

/** Challenge then queue. The sale asks for difficulty 0; the surge rule may raise it while the crowd joins. */
async function join(
  client: HttpClient,
  saleId: string,
  token: string,
  difficulties?: Map<number, number>,
): Promise<{ ok: boolean; ticket?: string; problem?: string }> {
  const challenge = await client.get(`/v1/sales/${saleId}/challenge`, token);
  const difficulty = challenge.body.difficulty;
  if (challenge.status !== 200 || typeof difficulty !== 'number' || difficulty > MAX_BENCH_DIFFICULTY)
    return { ok: false, problem: `challenge ${challenge.status} ${String(challenge.body.type ?? difficulty)}` };
  difficulties?.set(difficulty, (difficulties.get(difficulty) ?? 0) + 1);
  const challengeText = String(challenge.body.challenge);
  const joined = await client.post(`/v1/sales/${saleId}/queue`, {
    token,
    body: { challenge: challengeText, nonce: await solveChallenge(challengeText, difficulty) },
  });
  return joined.status === 201
    ? { ok: true, ticket: String(joined.body.ticket) }
    : { ok: false, problem: `queue ${joined.status} ${String(joined.body.type ?? '')}` };
}

async function rps(url: string, token: string, connections: number, seconds: number, expected: string) {
  const result = await autocannon({
    url,
    headers: { authorization: `Bearer ${token}` },
    connections,
    duration: seconds,
    timeout: 10,
  });
  const unexpected =
    Object.entries(result.statusCodeStats).reduce((sum, [code, stats]) => sum + (code === expected ? 0 : stats.count), 0) +
    result.errors +
    result.timeouts;
  return { rps: Math.round(result.requests.average), requests: result.requests.total, unexpected };
}

export async function benchWaitingRoom(
  stack: BenchStack,
  options: {
    shoppers: number;
    connections: number;
    pollSeconds: number;
    claimers: number;
    admitPerSecond: number;
    say: (message: string) => void;
  },
): Promise<WaitingRoomResult> {
  const { apiUrl } = await stack.services();
  const client = httpClient(apiUrl, options.connections);
  try {
    // (1) The crowd joins.
    const saleId = await waitingRoomSale(client, 1_000, 100);
    options.say(`minting ${options.shoppers} shopper tokens`);
    const tokens = await Promise.all(
      Array.from({ length: options.shoppers }, (_, i) => mintShopperToken(BENCH_SECRETS.JWT_SECRET, `wr-${saleId}-${i}`)),
    );
    options.say(`${options.shoppers} shoppers join at once over ${options.connections} connections`);
    const difficulties = new Map<number, number>();
    const joinFastAnswers = async () =>
      [...(await (await fetch(`${apiUrl}/metrics`)).text()).matchAll(/^join_fast_path_total\{[^}]*\} (\d+)/gm)].reduce(
        (sum, match) => sum + Number(match[1]),
        0,
      );
    const joinFastBefore = await joinFastAnswers();
    const started = performance.now();
    const joins = await Promise.all(
      tokens.map(async (token) => {
        const t0 = performance.now();
        const result = await join(client, saleId, token, difficulties).catch((error: unknown) => ({
          ok: false,
          problem: error instanceof Error ? error.message : String(error),
        }));
        return { ...result, ms: performance.now() - t0, doneAt: performance.now() - started };
      }),
    );
    const ok = joins.filter((j) => j.ok);
    const joinFastPathShare = ((await joinFastAnswers()) - joinFastBefore) / (2 * joins.length);
    const msToLastTicket = Math.round(Math.max(...ok.map((j) => j.doneAt)));
    const problems = new Map<string, number>();
    for (const j of joins) if (!j.ok) problems.set(j.problem ?? '?', (problems.get(j.problem ?? '?') ?? 0) + 1);
    options.say(
      `${ok.length} tickets in ${msToLastTicket} ms; challenges by difficulty ${JSON.stringify([...difficulties])}` +
        (problems.size ? `; failures: ${JSON.stringify([...problems])}` : ''),
    );

    // (2) queue/me against bare node:http with the same body.
    const pollUrl = `${apiUrl}/v1/sales/${saleId}/queue/me`;
    const sample = await client.get(`/v1/sales/${saleId}/queue/me`, tokens[0]);
    if (sample.status !== 200) throw new Error(`queue/me: ${sample.status} ${JSON.stringify(sample.body)}`);
    const pollConnections = 100;
    options.say(`queue/me: autocannon ${pollConnections} connections for ${options.pollSeconds} s`);
    const fastAnswers = async () =>
      Number(/^queue_me_fast_path_total (\d+)/m.exec(await (await fetch(`${apiUrl}/metrics`)).text())?.[1] ?? 0);
    const fastBefore = await fastAnswers();
    const api = await rps(pollUrl, tokens[0]!, pollConnections, options.pollSeconds, '200');
    const fastPathShare = api.requests ? ((await fastAnswers()) - fastBefore) / api.requests : 0;
    const port = await freePort();
    const bare = serviceProcess({
      name: 'bare-queue-me',
      entry: 'bench/bare-409-server.ts',
      env: { ...process.env, PORT: String(port), BARE_BODY: JSON.stringify(sample.body) },
    });
    bare.start();
    let bareRps = 0;
    try {
      const bareUrl = `http://127.0.0.1:${port}/v1/sales/x/queue/me`;
      await waitForHttp(bareUrl, 20_000, (status) => status === 409);
      bareRps = (await rps(bareUrl, tokens[0]!, pollConnections, options.pollSeconds, '409')).rps;
    } finally {
      await bare.stop();
    }
    options.say(`queue/me: API ${api.rps} req/s, bare node:http ${bareRps} req/s`);

    // (3) Admitted shoppers claim as soon as they are admitted.
    const claimSale = await waitingRoomSale(client, options.claimers, options.admitPerSecond);
    const claimTokens = await Promise.all(
      Array.from({ length: options.claimers }, (_, i) =>
        mintShopperToken(BENCH_SECRETS.JWT_SECRET, `wr-claim-${claimSale}-${i}`),
      ),
    );
    const tickets = await Promise.all(claimTokens.map((token) => join(client, claimSale, token)));
    options.say(`${options.claimers} shoppers poll and claim at ${options.admitPerSecond} admissions/s`);
    const claimMs: number[] = [];
    let created = 0;
    const deadline = Date.now() + (options.claimers / options.admitPerSecond) * 1_000 + 60_000;
    await Promise.all(
      claimTokens.map(async (token, i) => {
        const ticket = tickets[i]?.ticket;
        if (!ticket) return;
        while (Date.now() < deadline) {
          const view = await client.get(`/v1/sales/${claimSale}/queue/me`, token);
          if (view.body.status === 'admitted') {
            // On the keep-alive connections the polls use, as a shopper's browser would claim.
            const claim = await client.post(`/v1/sales/${claimSale}/reservations`, {
              token,
              headers: { 'queue-ticket': ticket },
            });
            claimMs.push(claim.ms);
            if (claim.status === 201) created++;
            return;
          }
          await sleep(500);
        }
      }),
    );
    return {
      joins: {
        shoppers: options.shoppers,
        connections: options.connections,
        tickets: ok.length,
        failures: joins.length - ok.length,
        failureKinds: [...problems],
        difficulties: [...difficulties].sort(([a], [b]) => a - b),
        msToLastTicket,
        latencyMs: summarize(ok.map((j) => j.ms)),
        fastPathShare: joinFastPathShare,
      },
      poll: {
        connections: pollConnections,
        seconds: options.pollSeconds,
        apiRps: api.rps,
        bareRps,
        ratio: bareRps ? Math.round((api.rps / bareRps) * 100) / 100 : 0,
        apiUnexpected: api.unexpected,
        fastPathShare: Math.round(fastPathShare * 100) / 100,
      },
      admittedClaims: {
        shoppers: options.claimers,
        admitPerSecond: options.admitPerSecond,
        created,
        latencyMs: summarize(claimMs),
      },
    };
  } finally {
    await client.close();
  }
}
