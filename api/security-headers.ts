import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/*
 * The API's answers are JSON, so nothing it serves should ever be rendered, framed or allowed to
 * load anything: a deny-all CSP, no referrer, no sniffing. HSTS stays on (helmet's default) for
 * deployments behind TLS; browsers ignore it over plain HTTP.
 */
const helmetMiddleware = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
  },
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
});

/*
 * The HTML pages (api/web-pages.ts) load their own module, stylesheet and images and call the API
 * on the same origin, and nothing else: `'self'` only, no inline script or style, no eval, never
 * framed. Every other header is the same as the API's.
 */
const pageHelmetMiddleware = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
    },
  },
  referrerPolicy: { policy: 'no-referrer' },
  xFrameOptions: { action: 'deny' },
});

/*
 * With this configuration every header helmet sets is the same on every answer (no CSP nonce, no
 * per-request function), so the set is recorded once from helmet itself and shared by every
 * writer of answers: the Express app, the sold-out fast path and the HTTP parser's error answers.
 */
function recordHelmetHeaders(middleware: typeof helmetMiddleware): ReadonlyArray<readonly [string, string]> {
  const headers: Array<readonly [string, string]> = [];
  let finished = false;
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, String(value)]);
      return recorder;
    },
    removeHeader() {},
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    finished = true;
  });
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

/** The security headers of every answer, as `[name, value]` pairs. */
export const SECURITY_HEADERS = recordHelmetHeaders(helmetMiddleware);

/** The headers of the HTML pages and their assets: the same set with the pages' CSP. */
export const PAGE_SECURITY_HEADERS = recordHelmetHeaders(pageHelmetMiddleware);

/** The same headers as a plain object, for `res.writeHead` and raw answers. */
export const SECURITY_HEADER_OBJECT: Readonly<Record<string, string>> = Object.fromEntries(SECURITY_HEADERS);

export function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
    res.removeHeader('X-Powered-By');
    next();
  };
}

/** Replaces the API's headers with the pages' (mounted in front of the pages and their assets only). */
export function pageSecurityHeaders(): RequestHandler {
  return (_req, res, next) => {
    for (const [name, value] of PAGE_SECURITY_HEADERS) res.setHeader(name, value);
    next();
  };
}
