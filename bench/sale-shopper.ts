/*
 * One shopper of the sale phase (bench/sale.ts) as a small state machine on the bench's shared
 * undici pools: the waiting room's protocol as clients/waiting-room-client.ts and the checkout
 * page speak it (challenge, proof of work, join, follow the place over queue/me/events as the page
 * does, or poll queue/me at the server's `nextPollSeconds` while the API refuses the stream,
 * claim with `Queue-Ticket` once admitted), then pay, be declined or walk away. The proof of work is solved
 * with node:crypto (the client's WebCrypto solver awaits a promise per hash, which 100,000
 * shoppers in one process cannot afford).
 */
import { createHash } from 'node:crypto';
import { nextPollDelayMs } from '../clients/waiting-room-client';
import { hasLeadingZeroBits, powInput, type QueuePositionView } from '../domain/waiting-room';
import type { QueueStreams } from './queue-stream';
import type { HttpAnswer, HttpClient } from './util';
import { isSoldOut, sleep } from './util';

/** Bought, declined, walked away (holding a unit it never pays), told sold out, or none before the deadline. */
export type FinalAnswer = 'bought' | 'declined' | 'walked-away' | 'sold-out' | 'admission-expired' | 'no-answer';

export type ShopperIntent = 'pay' | 'declined' | 'walk-away';

/** 85 % pay, 10 % are declined, 5 % walk away, spread evenly over the arrival order. */
export function intentOf(index: number): ShopperIntent {
  const k = index % 20;
  return k === 0 ? 'walk-away' : k <= 2 ? 'declined' : 'pay';
}

export function solvePow(challenge: string, difficulty: number): { nonce: string; hashes: number } {
  for (let attempt = 0; ; attempt++) {
    const nonce = attempt.toString(36);
    if (hasLeadingZeroBits(createHash('sha256').update(powInput(challenge, nonce)).digest(), difficulty))
      return { nonce, hashes: attempt + 1 };
  }
}

/** Per route: answers by status, latencies, and the moments they came (for requests/s). */
export class RouteStats {
  readonly routes = new Map<string, { statuses: Map<string, number>; latencies: number[] }>();
  /** `errorKind` names a failed request's error (its code), so the report says what failed. */
  record(route: string, answer: Pick<HttpAnswer, 'status' | 'ms'> | 'error', errorKind?: string): void {
    let entry = this.routes.get(route);
    if (!entry) this.routes.set(route, (entry = { statuses: new Map(), latencies: [] }));
    const key = answer === 'error' ? (errorKind ? `error ${errorKind}` : 'error') : String(answer.status);
    entry.statuses.set(key, (entry.statuses.get(key) ?? 0) + 1);
    if (answer !== 'error') entry.latencies.push(answer.ms);
  }
}

export interface SaleShopperContext {
  /** The crowd's pool: challenges, joins, queue/me. */
  client: HttpClient;
  /**
   * Admitted shoppers' claims, payments and reservation polls go on a pool of their own, as a
   * browser's requests go on its own connection: their latency is the server's queue, not the
   * load generator's wait for a connection behind the crowd's polls.
   */
  admitted: HttpClient;
  /** The place followed over Server-Sent Events, one connection per shopper as a browser has. */
  streams: QueueStreams;
  saleId: string;
  stats: RouteStats;
  /** True once the bench stops waiting: every loop ends with `no-answer`. */
  over: () => boolean;
  now: () => number;
  events: {
    joined(index: number): void;
    admitted(index: number): void;
    answered(index: number, answer: FinalAnswer, via: 'queue' | 'claim' | 'payment' | 'deadline'): void;
    hashes(count: number, difficulty: number): void;
  };
}

const PAYMENT_METHOD: Record<Exclude<ShopperIntent, 'walk-away'>, string> = { pay: 'tok_visa', declined: 'tok_chargeDeclined' };
const STATUS_POLL_MS = 500;

/** Sends `send` until it answers something other than a 5xx or 429, waiting as told (`Retry-After`, else 1 s). */
async function patiently(
  ctx: SaleShopperContext,
  route: string,
  send: () => Promise<HttpAnswer>,
): Promise<HttpAnswer | undefined> {
  while (!ctx.over()) {
    let answer: HttpAnswer;
    try {
      answer = await send();
    } catch {
      ctx.stats.record(route, 'error');
      await sleep(1_000);
      continue;
    }
    ctx.stats.record(route, answer);
    if (answer.status < 500 && answer.status !== 429) return answer;
    await sleep((answer.retryAfter ?? 1) * 1000);
  }
  return undefined;
}

export async function runSaleShopper(ctx: SaleShopperContext, index: number, token: string): Promise<void> {
  const { client, admitted, saleId } = ctx;
  const answer = (final: FinalAnswer, via: Parameters<SaleShopperContext['events']['answered']>[2]) =>
    ctx.events.answered(index, final, via);
  let ticket: string | undefined;
  while (!ticket) {
    const challenge = await patiently(ctx, 'GET challenge', () => client.get(`/v1/sales/${saleId}/challenge`, token));
    if (!challenge) return answer('no-answer', 'deadline');
    const text = String(challenge.body.challenge);
    const difficulty = Number(challenge.body.difficulty);
    const { nonce, hashes } = solvePow(text, difficulty);
    ctx.events.hashes(hashes, difficulty);
    const joined = await patiently(ctx, 'POST queue', () =>
      client.post(`/v1/sales/${saleId}/queue`, { token, body: { challenge: text, nonce } }),
    );
    if (!joined) return answer('no-answer', 'deadline');
    if (joined.status === 200 || joined.status === 201) ticket = String(joined.body.ticket);
  }
  ctx.events.joined(index);

  let reservationId: string | undefined;
  /** When the stream may be asked for again (after a refusal's `Retry-After`). */
  let streamAfter = 0;
  for (let admittedOnce = false; !reservationId;) {
    let view: QueuePositionView | undefined;
    let retryAfter: number | undefined;
    if (ctx.now() >= streamAfter) {
      const followed = await ctx.streams.follow(saleId, token, ctx.over);
      if (followed.status === 0) ctx.stats.record('GET queue/me/events', 'error', followed.error);
      else ctx.stats.record('GET queue/me/events', { status: followed.status, ms: followed.ms });
      if (followed.last && followed.last.status !== 'waiting') view = followed.last;
      else if (followed.status !== 200) streamAfter = ctx.now() + (followed.retryAfter ?? 10) * 1000;
    }
    if (!view) {
      const polled = await patiently(ctx, 'GET queue/me', () => client.get(`/v1/sales/${saleId}/queue/me`, token));
      if (!polled) return answer('no-answer', 'deadline');
      view = polled.body as unknown as QueuePositionView;
      retryAfter = polled.retryAfter;
    }
    if (view.status === 'sold-out') return answer('sold-out', 'queue');
    if (view.status === 'expired') return answer('admission-expired', 'queue');
    if (view.status !== 'admitted') {
      if (ctx.now() < streamAfter) await sleep(retryAfter !== undefined ? retryAfter * 1000 : nextPollDelayMs(view));
      continue;
    }
    if (!admittedOnce) ctx.events.admitted(index);
    admittedOnce = true;
    const claim = await patiently(ctx, 'POST reservations', () =>
      admitted.post(`/v1/sales/${saleId}/reservations`, {
        token,
        headers: { 'queue-ticket': ticket, 'idempotency-key': `sale-claim-${index}` },
      }),
    );
    if (!claim) return answer('no-answer', 'deadline');
    if (isSoldOut(claim)) return answer('sold-out', 'claim');
    if (claim.status === 201 || claim.status === 200) reservationId = String(claim.body.id);
    else await sleep(1_000); // 403 not-admitted (clocks) or a conflict: back to the queue
  }

  const intent = intentOf(index);
  if (intent === 'walk-away') return answer('walked-away', 'claim');
  const paid = await patiently(ctx, 'POST payment', () =>
    admitted.post(`/v1/reservations/${reservationId}/payment`, {
      token,
      body: { paymentMethod: PAYMENT_METHOD[intent] },
    }),
  );
  if (!paid) return answer('no-answer', 'deadline');
  for (;;) {
    await sleep(STATUS_POLL_MS);
    const view = await patiently(ctx, 'GET reservation', () => admitted.get(`/v1/reservations/${reservationId}`, token));
    if (!view) return answer('no-answer', 'deadline');
    const status = String(view.body.status);
    if (status === 'paid') return answer('bought', 'payment');
    if (status === 'payment_failed') return answer('declined', 'payment');
    if (status === 'expired' || status === 'cancelled') return answer('declined', 'payment');
  }
}
