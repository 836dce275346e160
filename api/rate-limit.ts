import type { Request, RequestHandler } from 'express';
import { rateLimit, type RateLimitInfo } from 'express-rate-limit';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/errors';
import { principalOf } from './auth';
import { Problem } from './problem';
import { SyncMemoryStore } from './rate-limit-store';

export interface RateLimitRule {
  /** Requests allowed per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
}

export interface RateLimitConfig {
  perIp: RateLimitRule;
  perShopper: RateLimitRule;
  /** Challenges and queue joins per shopper (the waiting room's routes). */
  queuePerShopper?: RateLimitRule;
}

/** Routes that must answer however busy a client is: probes, scrapes and the provider's webhooks. */
const IP_EXEMPT_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const WEBHOOK_PATH = '/v1/webhooks/payments';

function isIpExempt(req: Request): boolean {
  // Routing is case-insensitive and ignores a trailing slash; so is the exemption.
  const path = req.path.toLowerCase().replace(/\/+$/, '');
  return IP_EXEMPT_PATHS.has(path) || (req.method === 'POST' && path === WEBHOOK_PATH);
}

const passThrough: RequestHandler = (_req, _res, next) => next();

/*
 * In-memory counters: each API process counts on its own, so N processes behind a balancer let
 * a client through N times the limit. That is enough to blunt one noisy client; a shared store
 * (Redis) is the step up when the limit must hold across processes.
 */
function limiter(rule: RateLimitRule, logger: Logger, options: Parameters<typeof rateLimit>[0]): RequestHandler {
  if (rule.limit === 0) return passThrough;
  return rateLimit({
    windowMs: rule.windowMs,
    limit: rule.limit,
    // `RateLimit` / `RateLimit-Policy` headers, and `Retry-After` on every 429.
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (req, _res, next) => {
      const resetAt = (req as Request & { rateLimit?: RateLimitInfo }).rateLimit?.resetTime?.getTime() ?? Date.now();
      const seconds = Math.max(1, Math.ceil((resetAt - Date.now()) / 1000));
      next(new Problem(429, ErrorCode.RateLimited, `too many requests; retry in ${seconds} s`));
    },
    logger: {
      warn: (error: unknown, message?: string) => logger.warn({ err: error }, message ?? 'rate limiter warning'),
      error: (error: unknown, message?: string) => logger.error({ err: error }, message ?? 'rate limiter error'),
    },
    ...options,
  });
}

/** Per client IP (see TRUST_PROXY) on every route except health, metrics and the webhook. */
export function ipRateLimit(rule: RateLimitRule, logger: Logger): RequestHandler {
  return limiter(rule, logger, { skip: isIpExempt });
}

/** Per shopper (the verified JWT `sub`): mount after the shopper guard. */
export function shopperRateLimit(rule: RateLimitRule, logger: Logger, store?: SyncMemoryStore): RequestHandler {
  return limiter(rule, logger, {
    keyGenerator: (_req, res) => {
      const principal = principalOf(res);
      return principal.kind === 'shopper' ? `shopper:${principal.shopperId}` : 'admin';
    },
    ...(store && { store }),
  });
}

/**
 * Counts one request of a shopper in front of Express: the `RateLimit` headers Express's limiter
 * would send with it, or undefined once the budget is spent (then Express counts it and answers 429).
 */
export type ShopperBudget = (shopperId: string) => Readonly<Record<string, string>> | undefined;

/** What a budget answers while the limit is off: no headers to add. */
export const NO_LIMIT_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** `shopperRateLimit`, and the same counters for a fast path in front of Express (api/sold-out-fast-path.ts). */
export function sharedShopperRateLimit(
  rule: RateLimitRule,
  logger: Logger,
): { middleware: RequestHandler; budget: ShopperBudget } {
  if (rule.limit === 0) return { middleware: passThrough, budget: () => NO_LIMIT_HEADERS };
  const store = new SyncMemoryStore();
  const middleware = shopperRateLimit(rule, logger, store);
  const policy = `${rule.limit};w=${Math.ceil(rule.windowMs / 1000)}`;
  return {
    middleware,
    budget: (shopperId) => {
      const key = `shopper:${shopperId}`;
      if ((store.get(key)?.totalHits ?? 0) >= rule.limit) return undefined;
      const { totalHits, resetTime } = store.increment(key);
      const reset = Math.max(0, Math.ceil((resetTime!.getTime() - Date.now()) / 1000));
      // As express-rate-limit's `standardHeaders: 'draft-7'` writes them.
      return {
        'RateLimit-Policy': policy,
        RateLimit: `limit=${rule.limit}, remaining=${Math.max(rule.limit - totalHits, 0)}, reset=${reset}`,
      };
    },
  };
}
