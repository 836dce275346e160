import type { RequestHandler } from 'express';
import { ErrorCode } from '../domain/errors';
import type { Principal } from './auth';
import { Problem } from './problem';

/*
 * Caps on the Server-Sent Events streams one API process keeps open: in total, per client IP
 * (Express's `req.ip`, so behind TRUST_PROXY hops the forwarded address) and per shopper (the
 * token's `sub`). A stream past any cap is answered 429 problem+json with Retry-After before it
 * starts; its slot is given back when its answer closes. 0 turns a cap off.
 */
export interface StreamLimitsConfig {
  total: number;
  perIp: number;
  perShopper: number;
}

/** What a refused stream is told to wait: long enough that a crowd refused at once does not come straight back. */
export const STREAM_RETRY_AFTER_SECONDS = 10;

export type StreamLimit = 'total' | 'per-ip' | 'per-shopper';

export interface StreamLimits {
  /** After the route's authentication (if any): takes a slot or answers 429. */
  admit: RequestHandler;
  /** Open streams counted now. */
  open(): number;
}

export interface StreamLimitsHooks {
  refused(limit: StreamLimit): void;
  /** The count of open streams after each change. */
  counted(open: number): void;
}

export function createStreamLimits(config: StreamLimitsConfig, hooks?: StreamLimitsHooks): StreamLimits {
  let total = 0;
  const byIp = new Map<string, number>();
  const byShopper = new Map<string, number>();
  const over = (count: number, cap: number) => cap > 0 && count >= cap;
  const take = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
  const giveBack = (map: Map<string, number>, key: string) => {
    const left = (map.get(key) ?? 1) - 1;
    if (left === 0) map.delete(key);
    else map.set(key, left);
  };

  const admit: RequestHandler = (req, res, next) => {
    const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    const principal = res.locals.principal as Principal | undefined;
    const shopper = principal?.kind === 'shopper' ? principal.shopperId : undefined;
    const refused: StreamLimit | undefined = over(total, config.total)
      ? 'total'
      : over(byIp.get(ip) ?? 0, config.perIp)
        ? 'per-ip'
        : shopper !== undefined && over(byShopper.get(shopper) ?? 0, config.perShopper)
          ? 'per-shopper'
          : undefined;
    if (refused) {
      hooks?.refused(refused);
      res.set('Retry-After', String(STREAM_RETRY_AFTER_SECONDS));
      next(
        new Problem(
          429,
          ErrorCode.RateLimited,
          `too many open event streams (${refused}); retry in ${STREAM_RETRY_AFTER_SECONDS} s`,
          {
            limit: refused,
          },
        ),
      );
      return;
    }
    total++;
    hooks?.counted(total);
    take(byIp, ip);
    if (shopper !== undefined) take(byShopper, shopper);
    res.once('close', () => {
      total--;
      hooks?.counted(total);
      giveBack(byIp, ip);
      if (shopper !== undefined) giveBack(byShopper, shopper);
    });
    next();
  };

  return { admit, open: () => total };
}
