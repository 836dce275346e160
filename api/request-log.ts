import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { Logger } from 'pino';

const REQUEST_ID = /^[\w.-]{1,64}$/;
const requestIds = new WeakMap<Request, string>();

/** The `X-Request-Id` of an answer: the request's own when it is 1-64 of `[\w.-]`, else a fresh UUID. */
export function requestIdFor(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/*
 * Request ids and access logs without a child logger per request (what pino-http makes): the
 * child logger is only made when something is logged, since every request on the crowd's path
 * pays for what runs here. 5xx answers are logged at error, 4xx at debug.
 */
export function requestLogging(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const id = requestIdFor(req.headers['x-request-id']);
    requestIds.set(req, id);
    res.setHeader('X-Request-Id', id);
    if (logger.isLevelEnabled('debug') || logger.isLevelEnabled('error')) {
      const started = performance.now();
      res.on('finish', () => {
        const level = res.statusCode >= 500 ? 'error' : 'debug';
        if (!logger.isLevelEnabled(level)) return;
        logger[level](
          {
            reqId: id,
            method: req.method,
            url: req.originalUrl,
            status: res.statusCode,
            ms: Math.round(performance.now() - started),
          },
          'request completed',
        );
      });
    }
    next();
  };
}

/** A logger bound to the request's id, for the rare log line inside a handler. */
export function requestLogger(logger: Logger, req: Request): Logger {
  return logger.child({ reqId: requestIds.get(req) });
}
