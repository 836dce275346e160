import type { IncomingMessage, ServerResponse } from 'node:http';
import { salePathPattern, writeFastAnswer } from './fast-answer';
import type { Metrics } from './metrics';
import { Problem, problemAnswer } from './problem';
import { ErrorCode } from '../domain/errors';
import { NO_LIMIT_HEADERS, type ShopperBudget } from './rate-limit';
import { SECURITY_HEADER_OBJECT } from './security-headers';
import type { SoldOutRegistry } from './services/sold-out-registry';

const CLAIM_PATH = salePathPattern('reservations');
const SOLD_OUT = problemAnswer(
  new Problem(409, ErrorCode.SoldOut, 'every unit is held or sold; units come back when holds expire'),
);
/**
 * What the Express app would send with this problem: its security headers, then the answer's own
 * (no `cache-control`: Express sends none, and no cache stores an answer to a POST without one).
 */
const ANSWER = { status: 409, headers: { ...SECURITY_HEADER_OBJECT, ...SOLD_OUT.headers }, body: SOLD_OUT.body };

export interface SoldOutFastPathDeps {
  soldOut: SoldOutRegistry;
  knownShopper: (authorization: string | undefined) => string | undefined;
  metrics: Metrics;
  /** CORS headers for the request's origin, when CORS is on (api/cors.ts), so answers match Express's. */
  corsHeaders?: (origin: string | undefined) => Record<string, string>;
  /** Told of every answer, for the live dashboard's claims per second (api/services/sale-feed.ts). */
  onClaim?: (saleId: string, outcome: string) => void;
  /** The per-shopper rate limit's counters (api/rate-limit.ts `sharedShopperRateLimit`): every answer here spends one. */
  shopperBudget?: ShopperBudget;
  /** False while every request must reach Express (a per-IP rate limit to count). */
  enabled?: () => boolean;
}

/*
 * The crowd's most common answer without Express: a claim on a sale the registry knows is sold
 * out, by a shopper whose token was verified before, is answered here (Express and its
 * middleware cost most of the request rate: `GET /healthz` through Express made 6,367 req/s
 * where a bare node:http server made 54,762; `npm run bench -- --only soldout`, full-mode run
 * in docs/PERFORMANCE.md). Anything else — an unknown token, an Idempotency-Key (a replay must
 * find its reservation), a sale not marked, a shopper whose rate-limit budget is spent (Express
 * answers the 429) — returns false and takes the normal route, so answers never differ, only
 * their cost. Each answer here spends one of the shopper's budget, in the Express limiter's own
 * counters, and carries its `RateLimit` headers; with a per-IP limit set it steps aside (the
 * client's address as Express's `trust proxy` sees it is Express's to work out).
 */
export function soldOutFastPath(deps: SoldOutFastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST' || req.headers['idempotency-key'] !== undefined) return false;
    const saleId = CLAIM_PATH.exec(req.url ?? '')?.[1];
    if (!saleId || deps.enabled?.() === false) return false;
    const shopperId = deps.knownShopper(req.headers.authorization);
    if (shopperId === undefined || deps.soldOut.admit(saleId, false) !== 'sold-out') return false;
    const limitHeaders = deps.shopperBudget ? deps.shopperBudget(shopperId) : NO_LIMIT_HEADERS;
    if (!limitHeaders) return false;
    const answer = limitHeaders === NO_LIMIT_HEADERS ? ANSWER : { ...ANSWER, headers: { ...ANSWER.headers, ...limitHeaders } };
    writeFastAnswer(req, res, answer, deps.corsHeaders);
    deps.metrics.claims.inc({ outcome: 'sold-out-fast-path' });
    deps.onClaim?.(saleId, 'sold-out');
    return true;
  };
}
