import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/errors';
import { salePathPattern, writeFastAnswer } from './fast-answer';
import type { Metrics } from './metrics';
import { Problem, problemAnswer, problemFor } from './problem';
import type { ShopperBudget } from './rate-limit';
import type { RoomSale } from './require-sale';
import { joinQueueBody, JSON_BODY_LIMIT_BYTES, parseBody } from './schemas';
import { SECURITY_HEADER_OBJECT } from './security-headers';
import type { SaleCache } from './services/sale-cache';
import type { WaitingRoom } from './services/waiting-room';

const CHALLENGE_PATH = salePathPattern('challenge');
const QUEUE_PATH = salePathPattern('queue');
/** The bodies taken here: JSON in UTF-8 (what express.json reads without a charset or with utf-8). */
const JSON_TYPE = /^application\/json(?:; ?charset=utf-8)?$/i;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };
/** body-parser's strict mode: a JSON text must start with an object or an array. */
const STRICT_JSON_START = /^[ \t\n\r]*[{[]/;

export type JoinRoute = 'challenge' | 'queue';

export interface JoinFastPathDeps {
  sales: Pick<SaleCache, 'peek'>;
  waitingRoom: Pick<WaitingRoom, 'issueChallenge' | 'joinQueue'>;
  knownShopper: (authorization: string | undefined) => string | undefined;
  /** The shopper guard's verification (api/auth.ts), resolving undefined where the guard answers 401. */
  verifyShopper: (authorization: string | undefined) => Promise<string | undefined>;
  /** The queue routes' per-shopper rate limit counters (api/rate-limit.ts `sharedShopperRateLimit`). */
  queueBudget: ShopperBudget;
  metrics: Pick<Metrics, 'joinFastPath'>;
  corsHeaders?: (origin: string | undefined) => Record<string, string>;
  /** False while something on the Express route must see every request (a per-IP limit, debug access logs). */
  enabled: () => boolean;
  logger: Pick<Logger, 'child'>;
  /** The Express app: takes a request this path stepped aside from after it began (a token it could not verify, a spent budget). */
  express: RequestListener;
}

/*
 * The crowd's way into a waiting room, `GET /v1/sales/:saleId/challenge` then
 * `POST /v1/sales/:saleId/queue`, answered without Express when the sale is cached with its
 * waiting room. A shopper's first request is usually the challenge, so a token not seen before is
 * verified here, by the shopper guard's own code (api/auth.ts `verifyShopper`); one it refuses goes
 * to Express, which answers the 401. Each answer spends one of the shopper's queue budget in the
 * Express limiter's counters and carries its `RateLimit` headers; a spent budget goes to Express
 * (429). A join's body is read here only when Express would read it the same way (JSON in UTF-8,
 * no content coding, a Content-Length within express.json's limit); once read, every answer is
 * this path's, each the one Express would give: the route's, or the error handler's problem for
 * unreadable JSON, a body the schema refuses, a refused solution or an unavailable database
 * (api/problem.ts `problemFor`). Counted in `join_fast_path_total` by route, not in
 * `http_request_duration_seconds`.
 */
export function joinFastPath(deps: JoinFastPathDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  function answer(req: IncomingMessage, res: ServerResponse, route: JoinRoute, sale: RoomSale, shopperId: string): void {
    const limitHeaders = deps.queueBudget(shopperId);
    if (!limitHeaders) return deps.express(req, res);
    const headers = { ...SECURITY_HEADER_OBJECT, ...limitHeaders };
    const started = performance.now();
    if (route === 'challenge') {
      try {
        const body = JSON.stringify(deps.waitingRoom.issueChallenge(sale, shopperId));
        const ok = { status: 200, headers: { ...headers, 'cache-control': 'no-store', ...JSON_HEADERS }, body };
        writeFastAnswer(req, res, ok, deps.corsHeaders);
      } catch (error) {
        answerError(req, res, headers, error, started);
      }
      deps.metrics.joinFastPath.inc({ route });
      return;
    }
    void readBody(req)
      .then(async (text) => {
        const { challenge, nonce } = parseBody(joinQueueBody, parseStrictJson(text));
        const { created, ...view } = await deps.waitingRoom.joinQueue(sale, shopperId, challenge, nonce);
        const location = { Location: `/v1/sales/${sale.id}/queue/me` };
        const ok = {
          status: created ? 201 : 200,
          headers: { ...headers, ...location, ...JSON_HEADERS },
          body: JSON.stringify(view),
        };
        writeFastAnswer(req, res, ok, deps.corsHeaders);
      })
      .catch((error: unknown) => answerError(req, res, headers, error, started))
      .catch(() => res.destroy())
      .finally(() => deps.metrics.joinFastPath.inc({ route }));
  }

  /** As Express's error handler and access log (api/problem.ts, api/request-log.ts) answer and log `error`. */
  function answerError(
    req: IncomingMessage,
    res: ServerResponse,
    headers: Record<string, string>,
    error: unknown,
    started: number,
  ): void {
    const { problem, headers: extra, log } = problemFor(error);
    const answer = problemAnswer(problem);
    const requestId = writeFastAnswer(
      req,
      res,
      { ...answer, headers: { ...headers, ...extra, ...answer.headers } },
      deps.corsHeaders,
    );
    if (!log) return;
    const logger = deps.logger.child({ reqId: requestId });
    logger[log.level]({ err: error }, log.message);
    logger.error(
      { reqId: requestId, method: req.method, url: req.url, status: problem.status, ms: Math.round(performance.now() - started) },
      'request completed',
    );
  }

  return (req, res) => {
    const route: JoinRoute | undefined = req.method === 'GET' ? 'challenge' : req.method === 'POST' ? 'queue' : undefined;
    if (!route) return false;
    const saleId = (route === 'challenge' ? CHALLENGE_PATH : QUEUE_PATH).exec(req.url ?? '')?.[1];
    if (!saleId || !deps.enabled()) return false;
    if (route === 'queue' && !readableAsExpressWould(req)) return false;
    const sale = deps.sales.peek(saleId);
    if (!sale?.waiting_room) return false;
    const authorization = req.headers.authorization;
    const known = deps.knownShopper(authorization);
    if (known !== undefined) {
      answer(req, res, route, sale as RoomSale, known);
      return true;
    }
    if (authorization === undefined) return false;
    void deps.verifyShopper(authorization).then(
      (shopperId) => {
        if (shopperId === undefined) deps.express(req, res);
        else answer(req, res, route, sale as RoomSale, shopperId);
      },
      () => deps.express(req, res),
    );
    return true;
  };
}

/** A body express.json would read as this path does: UTF-8 JSON of a known length within the limit, not encoded. */
function readableAsExpressWould(req: IncomingMessage): boolean {
  const { headers } = req;
  if (headers['transfer-encoding'] !== undefined || headers['content-encoding'] !== undefined) return false;
  if (!JSON_TYPE.test(headers['content-type'] ?? '')) return false;
  const length = Number(headers['content-length']);
  return Number.isInteger(length) && length > 0 && length <= JSON_BODY_LIMIT_BYTES;
}

/** The request's body as text (UTF-8, a leading BOM dropped, as body-parser decodes it). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    });
    // What the error handler answers for a body that could not be read (aborted, cut short).
    req.on('error', () => reject(new Problem(400, ErrorCode.InvalidRequest, 'the body could not be read')));
    req.on('aborted', () => reject(new Problem(400, ErrorCode.InvalidRequest, 'the body could not be read')));
  });
}

/** express.json's `strict: true` parse, failing as the error handler answers it (400, not valid JSON). */
function parseStrictJson(text: string): unknown {
  if (text.length === 0) return {}; // body-parser's answer to an empty body (a lone BOM)
  try {
    if (!STRICT_JSON_START.test(text)) throw new SyntaxError('strict violation');
    return JSON.parse(text) as unknown;
  } catch {
    throw new Problem(400, ErrorCode.InvalidRequest, 'the body is not valid JSON');
  }
}
