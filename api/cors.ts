import cors from 'cors';
import type { RequestHandler } from 'express';

/** Request headers a browser frontend may send, and response headers it may read. */
const ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key', 'Queue-Ticket'];
const EXPOSED_HEADERS = ['Location', 'Retry-After', 'RateLimit', 'RateLimit-Policy'];

export interface CorsPolicy {
  /** Express middleware: answers preflights and adds the headers for allowed origins. */
  middleware: RequestHandler;
  /** The same headers for a response written outside Express (the sold-out fast path). */
  responseHeaders(origin: string | undefined): Record<string, string>;
}

/**
 * CORS for frontends served from other origins, off unless origins are listed (`CORS_ORIGINS`).
 * Shoppers authenticate with a bearer token, not cookies, so credentials stay off.
 */
export function corsPolicy(origins: readonly string[]): CorsPolicy | undefined {
  if (origins.length === 0) return undefined;
  const allowed = new Set(origins);
  return {
    middleware: cors({
      origin: [...allowed],
      methods: ['GET', 'POST'],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    }),
    // What the middleware writes on a non-preflight answer: the allowed origin only if it is one.
    responseHeaders(origin): Record<string, string> {
      const always = { vary: 'Origin', 'access-control-expose-headers': EXPOSED_HEADERS.join(',') };
      return origin !== undefined && allowed.has(origin) ? { 'access-control-allow-origin': origin, ...always } : always;
    },
  };
}
