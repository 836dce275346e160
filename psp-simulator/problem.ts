import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ProblemBody } from './types';

const TYPE_BASE = 'https://psp.flash-sale.example/problems/';

const TITLES = {
  'invalid-request': 'The request is not valid',
  'missing-idempotency-key': 'The Idempotency-Key header is required',
  'idempotency-key-reuse': 'The Idempotency-Key was used with other parameters',
  'idempotency-key-voided': 'The Idempotency-Key was voided',
  'charge-exists': 'A charge was made with this key',
  'card-declined': 'The card was declined',
  'not-found': 'Not found',
  'charge-not-captured': 'The charge did not capture any money',
  'already-refunded': 'The charge is already refunded',
  'refund-refused': 'The refund is refused',
  'service-unavailable': 'The provider is temporarily unavailable',
  internal: 'Internal error',
} as const;

export type PspErrorCode = keyof typeof TITLES;

/** An error that becomes an application/problem+json answer. */
export class PspProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: PspErrorCode,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }

  body(): ProblemBody {
    return { type: TYPE_BASE + this.code, title: TITLES[this.code], status: this.status, detail: this.detail, ...this.extra };
  }
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const notFoundHandler: RequestHandler = (req, res) => {
  const problem = new PspProblem(404, 'not-found', `no route for ${req.method} ${req.path}`);
  res.status(404).type(PROBLEM_CONTENT_TYPE).json(problem.body());
};

function isClientBodyError(error: unknown): error is { status: number; type?: unknown } {
  if (typeof error !== 'object' || error === null || !('status' in error)) return false;
  return typeof error.status === 'number' && error.status >= 400 && error.status < 500;
}

export function createErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    let problem: PspProblem;
    if (error instanceof PspProblem) problem = error;
    else if (isClientBodyError(error)) {
      const detail = error.type === 'entity.parse.failed' ? 'the body is not valid JSON' : 'the body could not be read';
      problem = new PspProblem(400, 'invalid-request', detail);
    } else {
      logger.error({ err: error, method: req.method, url: req.originalUrl }, 'unhandled error');
      problem = new PspProblem(500, 'internal', 'an unexpected error occurred');
    }
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).json(problem.body());
  };
}
