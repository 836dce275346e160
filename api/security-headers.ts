import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import helmet from 'helmet';

/*
 * The API answers JSON only, so nothing it serves should ever be rendered, framed or allowed to
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
 * With this configuration every header helmet sets is the same on every answer (no CSP nonce, no
 * per-request function), so the set is recorded once from helmet itself and shared by every
 * writer of answers: the Express app, the sold-out fast path and the HTTP parser's error answers.
 */
function recordHelmetHeaders(): ReadonlyArray<readonly [string, string]> {
  const headers: Array<readonly [string, string]> = [];
  let finished = false;
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers.push([name, String(value)]);
      return recorder;
    },
    removeHeader() {},
  };
  helmetMiddleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    finished = true;
  });
  if (!finished) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

/** The security headers of every answer, as `[name, value]` pairs. */
export const SECURITY_HEADERS = recordHelmetHeaders();

/** The same headers as a plain object, for `res.writeHead` and raw answers. */
export const SECURITY_HEADER_OBJECT: Readonly<Record<string, string>> = Object.fromEntries(SECURITY_HEADERS);

export function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
    res.removeHeader('X-Powered-By');
    next();
  };
}
