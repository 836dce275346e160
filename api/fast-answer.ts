import type { IncomingMessage, ServerResponse } from 'node:http';
import { requestIdFor } from './request-log';

/**
 * `^/v1/sales/<sale id>/<rest>$` with the sale id (a lower-case UUID) captured: the paths the fast
 * paths in front of Express answer (anything else, a mixed-case id included, takes Express).
 */
export function salePathPattern(rest: string): RegExp {
  return new RegExp(`^/v1/sales/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/${rest}$`);
}

/**
 * Writes an answer of a fast path as the Express app would: the request id, `headers`, the body's
 * length and, when CORS is on (api/cors.ts), the CORS headers for the request's origin. One header
 * object and no header set before, so writeHead formats them in one go. Returns the request id sent.
 */
export function writeFastAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  answer: { status: number; headers: Readonly<Record<string, string>>; body: string },
  corsHeaders?: (origin: string | undefined) => Record<string, string>,
): string {
  req.resume();
  const requestId = requestIdFor(req.headers['x-request-id']);
  const headers: Record<string, string> = {
    'X-Request-Id': requestId,
    ...answer.headers,
    'content-length': String(Buffer.byteLength(answer.body)),
  };
  if (corsHeaders) Object.assign(headers, corsHeaders(req.headers.origin));
  res.writeHead(answer.status, headers).end(answer.body);
  return requestId;
}
