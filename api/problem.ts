import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import { ErrorCode } from '../domain/errors';
import type { Logger } from 'pino';
import { isDependencyUnavailable } from './dependency-errors';
import { requestLogger } from './request-log';

const TYPE_BASE = 'https://flash-sale.example/problems/';

const TITLES: Record<ErrorCode, string> = {
  'invalid-request': 'The request is not valid',
  unauthorized: 'Authentication required',
  forbidden: 'Not allowed',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  'sold-out': 'Sold out',
  'already-reserved': 'You already hold a unit of this sale',
  'sale-not-started': 'The sale has not started',
  'no-waitlist': 'This sale has no waitlist',
  'units-available': 'Units are still available; claim one instead',
  'rate-limited': 'Too many requests',
  'not-admitted': 'Not admitted from the waiting room',
  'admission-spent': 'The admission has been used for a claim already',
  'invalid-challenge': 'The proof-of-work solution is not accepted',
  'hold-expired': 'The hold has expired',
  'invalid-state': 'Not possible in the reservation’s current state',
  'start-refused': 'The reservation could not be started; its unit was given back',
  'shopper-has-live-reservation': 'The shopper has a reservation that has not ended',
  'bad-signature': 'The signature does not verify',
  'payload-too-large': 'The request body is too large',
  'unsupported-media-type': 'Unsupported media type',
  'service-unavailable': 'A dependency is unavailable; try again shortly',
  internal: 'Internal error',
};

/** An error that becomes an application/problem+json answer. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

function problemJson(problem: Problem): Record<string, unknown> {
  return {
    type: TYPE_BASE + problem.code,
    title: TITLES[problem.code],
    status: problem.status,
    detail: problem.detail,
    ...problem.extra,
  };
}

export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type('application/problem+json').json(problemJson(problem));
}

/** What `sendProblem` writes, for the answers written in front of Express (the fast paths, the crowd's shedding). */
export function problemAnswer(problem: Problem): { status: number; headers: Record<string, string>; body: string } {
  return {
    status: problem.status,
    headers: { 'content-type': 'application/problem+json; charset=utf-8' },
    body: JSON.stringify(problemJson(problem)),
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, new Problem(404, ErrorCode.NotFound, `no route for ${req.method} ${req.path}`));
};

interface HttpError {
  type?: unknown;
  status: number;
}

/** Errors of body-parser and the router: http-errors with a status, and a `type` only for some (zlib failures have none). */
function isHttpError(error: unknown): error is HttpError {
  return typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number';
}

/** What the error handler makes of `error`: its problem, headers to add, and the line to log (none for a client's mistake). */
export function problemFor(error: unknown): {
  problem: Problem;
  headers?: Record<string, string>;
  log?: { level: 'warn' | 'error'; message: string };
} {
  if (error instanceof Problem) return { problem: error };
  // Express's router marks a path parameter that is not valid percent-encoding (`/v1/sales/%zz`) as a 400.
  if (error instanceof URIError)
    return { problem: new Problem(400, ErrorCode.InvalidRequest, 'the path is not valid percent-encoding') };
  if (isHttpError(error)) {
    if (error.type === 'entity.too.large')
      return { problem: new Problem(413, ErrorCode.PayloadTooLarge, 'the body exceeds the size limit') };
    if (error.type === 'entity.parse.failed')
      return { problem: new Problem(400, ErrorCode.InvalidRequest, 'the body is not valid JSON') };
    if (error.status >= 400 && error.status < 500) {
      return {
        problem: new Problem(
          error.status === 415 ? 415 : 400,
          error.status === 415 ? ErrorCode.UnsupportedMediaType : ErrorCode.InvalidRequest,
          'the body could not be read',
        ),
      };
    }
  }
  if (isDependencyUnavailable(error))
    return {
      problem: new Problem(503, ErrorCode.ServiceUnavailable, 'a dependency is unavailable; try again shortly'),
      headers: { 'Retry-After': '1' },
      log: { level: 'warn', message: 'dependency unavailable' },
    };
  return {
    problem: new Problem(500, ErrorCode.Internal, 'an unexpected error occurred'),
    log: { level: 'error', message: 'unhandled error' },
  };
}

/** The one error handler: known problems pass through; anything else is logged and hidden behind a generic 500. */
export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    const { problem, headers, log } = problemFor(error);
    if (log) requestLogger(logger, req)[log.level]({ err: error }, log.message);
    if (headers) res.set(headers);
    sendProblem(res, problem);
  };
}
