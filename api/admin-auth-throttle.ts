import type { Request, Response } from 'express';
import { ipKeyGenerator, MemoryStore, type Options } from 'express-rate-limit';
import { ErrorCode } from '../domain/errors';
import { Problem } from './problem';

export interface AdminAuthThrottleRule {
  /** Failed authentications allowed per client IP and window; 0 turns the throttle off. */
  limit: number;
  windowMs: number;
}

export interface AdminAuthThrottle {
  /** Past its failures, the 429 to answer this client with (and its Retry-After set); otherwise undefined. */
  refusal(req: Request, res: Response): Promise<Problem | undefined>;
  /** Counts one failed authentication of this client. */
  failed(req: Request): Promise<void>;
}

const OFF: AdminAuthThrottle = { refusal: async () => undefined, failed: async () => undefined };

/*
 * Guesses of the admin token, throttled per client IP (TRUST_PROXY decides what the IP is; IPv6
 * by /56, as express-rate-limit keys it). Only failures count, so an operator's own requests and
 * shoppers' valid tokens never use the budget; past it the admin token is not even compared, so a
 * guess learns nothing until the window ends. Counted in memory per API process, like the other
 * limits (api/rate-limit.ts): N processes allow N times the failures.
 */
export function createAdminAuthThrottle(rule: AdminAuthThrottleRule): AdminAuthThrottle {
  if (rule.limit === 0) return OFF;
  const store = new MemoryStore();
  // The store reads only `windowMs` of the middleware's options.
  store.init({ windowMs: rule.windowMs } as Options);
  const keyOf = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');
  return {
    async refusal(req, res) {
      const info = await store.get(keyOf(req));
      if (!info || info.totalHits < rule.limit) return undefined;
      const seconds = Math.max(1, Math.ceil(((info.resetTime?.getTime() ?? Date.now()) - Date.now()) / 1000));
      res.setHeader('Retry-After', String(seconds));
      return new Problem(429, ErrorCode.RateLimited, `too many failed authentications; retry in ${seconds} s`);
    },
    async failed(req) {
      await store.increment(keyOf(req));
    },
  };
}
