import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { watchEventLoopDelay } from './event-loop-delay';
import { writeFastAnswer } from './fast-answer';
import type { Metrics } from './metrics';
import { Problem, problemAnswer } from './problem';
import { ErrorCode } from '../domain/errors';
import { SECURITY_HEADER_OBJECT } from './security-headers';

export interface CrowdSheddingConfig {
  /** CROWD_SHED_EVENT_LOOP_DELAY_MS: past this event-loop delay the crowd's routes are shed; 0 = never. */
  maxEventLoopDelayMs: number;
  /** CROWD_SHED_RETRY_AFTER_SECONDS: a shed answer says to come back in this to twice this many seconds. */
  retryAfterSeconds: number;
}

export const NO_CROWD_SHEDDING: CrowdSheddingConfig = { maxEventLoopDelayMs: 0, retryAfterSeconds: 1 };

export type CrowdRoute = 'challenge' | 'queue' | 'queue-me' | 'queue-me-events';

export interface CrowdSheddingDeps extends CrowdSheddingConfig {
  metrics: Pick<Metrics, 'crowdShed'>;
  /** queue/me answered from this process's memory with its next poll at least `minPollSeconds` away (api/queue-me-fast-path.ts); false when it cannot be. */
  queueMeFromMemory?: (req: IncomingMessage, res: ServerResponse, minPollSeconds: number) => boolean;
  /** CORS headers for the request's origin, when CORS is on (api/cors.ts), so answers match Express's. */
  corsHeaders?: (origin: string | undefined) => Record<string, string>;
  /** Milliseconds the event loop runs late now; by default measured here (api/event-loop-delay.ts). */
  eventLoopDelay?: () => number;
  random?: () => number;
}

/** The waiting crowd's routes, any sale id and query string: what may be shed, and nothing else. */
const CROWD_PATH = /^\/v1\/sales\/[^/?]+\/(challenge|queue|queue\/me|queue\/me\/events)(?:\?|$)/;
const ROUTES: Record<string, { method: string; route: CrowdRoute }> = {
  challenge: { method: 'GET', route: 'challenge' },
  queue: { method: 'POST', route: 'queue' },
  'queue/me': { method: 'GET', route: 'queue-me' },
  'queue/me/events': { method: 'GET', route: 'queue-me-events' },
};
const SHED = problemAnswer(
  new Problem(
    429,
    ErrorCode.RateLimited,
    'the waiting room is busy: come back after Retry-After seconds; your place, if you have one, is kept',
  ),
);
const HEADERS = { ...SECURITY_HEADER_OBJECT, ...SHED.headers, 'cache-control': 'no-store' };

export function crowdRouteOf(req: IncomingMessage): CrowdRoute | undefined {
  const match = CROWD_PATH.exec(req.url ?? '');
  const entry = match && ROUTES[match[1]!];
  return entry && entry.method === req.method ? entry.route : undefined;
}

/*
 * Capacity of their own for admitted shoppers on the event loop (issue 21). While the loop runs
 * later than `maxEventLoopDelayMs` (api/event-loop-delay.ts), a request of the waiting crowd —
 * a challenge, a queue join, a queue/me poll, its stream — is answered here, before the fast
 * paths and Express, at the cost of writing a constant answer: 429 problem+json with a
 * `Retry-After` spread over [retryAfterSeconds, 2 × retryAfterSeconds], never a 503. A queue/me
 * poll that memory can answer gets that answer instead, its next poll moved as far (the crowd
 * then asks less often, and an admitted shopper still learns it). Claims, payments, reservation
 * reads and every other route always pass: shedding the crowd is what keeps their turns short.
 * Shed answers are counted in `crowd_shed_total`, by route and answer.
 */
export function crowdShedding(deps: CrowdSheddingDeps): (next: RequestListener) => RequestListener {
  const { maxEventLoopDelayMs, retryAfterSeconds } = deps;
  if (maxEventLoopDelayMs <= 0) return (next) => next;
  const delay = deps.eventLoopDelay ?? watchEventLoopDelay().now;
  const random = deps.random ?? Math.random;
  return (next) => (req, res) => {
    if (delay() <= maxEventLoopDelayMs) return next(req, res);
    const route = crowdRouteOf(req);
    if (!route) return next(req, res);
    const seconds = retryAfterSeconds + Math.floor(random() * (retryAfterSeconds + 1));
    if (route === 'queue-me' && deps.queueMeFromMemory?.(req, res, seconds)) {
      deps.metrics.crowdShed.inc({ route, answer: 'from-memory' });
      return;
    }
    writeFastAnswer(
      req,
      res,
      { status: 429, headers: { ...HEADERS, 'retry-after': String(seconds) }, body: SHED.body },
      deps.corsHeaders,
    );
    deps.metrics.crowdShed.inc({ route, answer: 'refused' });
  };
}
