/**
 * A shopper's side of a sale's waiting room, for the browser and for Node (≥ 18): only `fetch`,
 * WebCrypto (`crypto.subtle`) and TextEncoder, no Node-only import. The checkout page and the
 * bench use it; docs/DESIGN.md ("Waiting room") describes the protocol.
 */
import { hasLeadingZeroBits, powInput, type QueuePositionView } from '../domain/waiting-room';

export interface Challenge {
  challenge: string;
  difficulty: number;
  expiresAt: string;
}

export interface QueueTicket {
  ticket: string;
  ticketId: string;
  saleId: string;
  joinedAt: string;
}

export interface SolveOptions {
  /** Called every `progressEvery` attempts with the attempts made so far. */
  onProgress?: (attempts: number) => void;
  progressEvery?: number;
  /** Stops the search (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** A problem+json answer from the API, kept whole. */
export class WaitingRoomError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Record<string, unknown>,
  ) {
    super(`${status} ${typeof problem.type === 'string' ? problem.type : ''}: ${String(problem.detail ?? '')}`);
  }
}

const encoder = new TextEncoder();

/**
 * Finds a nonce such that sha256(challenge + ":" + nonce) starts with `difficulty` zero bits: on
 * average 2^difficulty hashes. Yields to the event loop between batches so a page stays responsive.
 */
export async function solveChallenge(challenge: string, difficulty: number, options: SolveOptions = {}): Promise<string> {
  const every = options.progressEvery ?? 1_024;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    const nonce = attempt.toString(36);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(powInput(challenge, nonce))));
    if (hasLeadingZeroBits(digest, difficulty)) return nonce;
    if ((attempt + 1) % every === 0) {
      options.onProgress?.(attempt + 1);
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

/** 429s in a row `call` waits out (as their `Retry-After` says) before it gives up with the last. */
const BUSY_RETRIES = 5;

async function call<T>(
  url: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: T }> {
  const send = () =>
    fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(init.body !== undefined && { body: JSON.stringify(init.body) }),
    });
  let response = await send();
  // A busy API (or a rate limit) answers 429 with when to come back: come back then.
  for (let busy = 0; response.status === 429 && busy < BUSY_RETRIES; busy++) {
    const seconds = Number(response.headers.get('retry-after'));
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 60) break;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    response = await send();
  }
  const text = await response.text();
  const body = (text ? JSON.parse(text) : {}) as T;
  if (!response.ok) throw new WaitingRoomError(response.status, body as Record<string, unknown>);
  return { status: response.status, body };
}

const saleUrl = (baseUrl: string, saleId: string) => `${baseUrl.replace(/\/+$/, '')}/v1/sales/${encodeURIComponent(saleId)}`;

export async function fetchChallenge(baseUrl: string, saleId: string, token: string): Promise<Challenge> {
  return (await call<Challenge>(`${saleUrl(baseUrl, saleId)}/challenge`, token)).body;
}

/** Asks for a challenge, solves it and joins the queue: the ticket (the same one if joined before). */
export async function joinQueue(
  baseUrl: string,
  saleId: string,
  token: string,
  options: SolveOptions = {},
): Promise<QueueTicket> {
  const { challenge, difficulty } = await fetchChallenge(baseUrl, saleId, token);
  const nonce = await solveChallenge(challenge, difficulty, options);
  return (await call<QueueTicket>(`${saleUrl(baseUrl, saleId)}/queue`, token, { method: 'POST', body: { challenge, nonce } }))
    .body;
}

export async function queuePosition(baseUrl: string, saleId: string, token: string): Promise<QueuePositionView> {
  return (await call<QueuePositionView>(`${saleUrl(baseUrl, saleId)}/queue/me`, token)).body;
}

/** Leaves the queue for good (`DELETE …/queue/me`): an admission not spent yet goes to the next shopper now. */
export async function leaveQueue(baseUrl: string, saleId: string, token: string): Promise<QueuePositionView> {
  return (await call<QueuePositionView>(`${saleUrl(baseUrl, saleId)}/queue/me`, token, { method: 'DELETE' })).body;
}

export interface PollOptions {
  /** Between polls when the server does not say (`nextPollSeconds`); its estimate shortens it near the front (default 2,000 ms, at least 250). */
  intervalMs?: number;
  onPosition?: (view: QueuePositionView) => void;
  signal?: AbortSignal;
}

/** How long to wait before the next poll of a waiting view: the server's `nextPollSeconds` when it sent one. */
export function nextPollDelayMs(view: QueuePositionView, intervalMs = 2_000): number {
  if (view.nextPollSeconds !== undefined) return view.nextPollSeconds * 1000;
  const hint = view.estimatedWaitSeconds === null ? intervalMs : Math.min(intervalMs, view.estimatedWaitSeconds * 500);
  return Math.max(250, hint);
}

/** Polls queue/me until the shopper is admitted (resolves with that view), the admission ran out, the shopper left or the sale sold out. */
export async function pollPosition(
  baseUrl: string,
  saleId: string,
  token: string,
  options: PollOptions = {},
): Promise<QueuePositionView> {
  const interval = options.intervalMs;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
    const view = await queuePosition(baseUrl, saleId, token);
    options.onPosition?.(view);
    if (view.status !== 'waiting') return view;
    await new Promise((resolve) => setTimeout(resolve, nextPollDelayMs(view, interval)));
  }
}

/** The header a claim needs while the sale has a waiting room. */
export function queueTicketHeader(ticket: QueueTicket): { 'queue-ticket': string } {
  return { 'queue-ticket': ticket.ticket };
}
