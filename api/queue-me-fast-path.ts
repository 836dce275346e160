import type { IncomingMessage, ServerResponse } from 'node:http';
import { salePathPattern, writeFastAnswer } from './fast-answer';
import type { Metrics } from './metrics';
import { SECURITY_HEADER_OBJECT } from './security-headers';
import type { SaleCache } from './services/sale-cache';
import type { WaitingRoom } from './services/waiting-room';
import { queueMeHeaders } from './routes/waiting-room';

const QUEUE_ME_PATH = salePathPattern('queue/me');
/** What the Express route adds to the app's headers (api/routes/waiting-room.ts, `res.json`). */
const HEADERS = { ...SECURITY_HEADER_OBJECT, 'content-type': 'application/json; charset=utf-8' };

export interface QueueMeFastPathDeps {
  sales: Pick<SaleCache, 'peek'>;
  waitingRoom: Pick<WaitingRoom, 'cachedPosition'>;
  knownShopper: (authorization: string | undefined) => string | undefined;
  metrics: Pick<Metrics, 'queueMeFastPath'>;
  /** CORS headers for the request's origin, when CORS is on (api/cors.ts), so answers match Express's. */
  corsHeaders?: (origin: string | undefined) => Record<string, string>;
  /** False while something on the Express route must see every request (debug access logs). */
  enabled: () => boolean;
}

/*
 * `GET /v1/sales/:saleId/queue/me` is what the whole waiting crowd polls. When everything its
 * answer needs is in this process's memory — a token verified before and not expired, the sale
 * cached with its waiting room, the shopper's place cached and the "now serving" counter read
 * within its TTL (api/services/waiting-room.ts, `cachedPosition`) — it is answered here, without
 * Express, with the body and headers the route would send. Anything else (a first poll, a stale
 * counter, a ticket the counter has reached, a per-IP rate limit to count) returns false and
 * takes the Express route, so answers never differ, only their cost. Its answers are counted in
 * `queue_me_fast_path_total`, not in `http_request_duration_seconds` (a labelled histogram
 * observation per answer is left off this path), as the sold-out fast path's are in `claims_total`.
 * With `minPollSeconds` (a busy process, api/crowd-shedding.ts) a waiting view's next poll is at
 * least that far.
 */
export function queueMeFastPath(
  deps: QueueMeFastPathDeps,
): (req: IncomingMessage, res: ServerResponse, minPollSeconds?: number) => boolean {
  return (req, res, minPollSeconds) => {
    if (req.method !== 'GET') return false;
    const saleId = QUEUE_ME_PATH.exec(req.url ?? '')?.[1];
    if (!saleId || !deps.enabled()) return false;
    const shopperId = deps.knownShopper(req.headers.authorization);
    if (shopperId === undefined || !deps.sales.peek(saleId)?.waiting_room) return false;
    let view = deps.waitingRoom.cachedPosition(saleId, shopperId);
    if (!view) return false;
    // A busy process moves a waiting shopper's next poll later (api/crowd-shedding.ts).
    if (minPollSeconds !== undefined && view.nextPollSeconds !== undefined && view.nextPollSeconds < minPollSeconds)
      view = { ...view, nextPollSeconds: minPollSeconds };
    const headers = { ...HEADERS, ...queueMeHeaders(view) };
    writeFastAnswer(req, res, { status: 200, headers, body: JSON.stringify(view) }, deps.corsHeaders);
    deps.metrics.queueMeFastPath.inc();
    return true;
  };
}
