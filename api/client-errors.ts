import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode } from '../domain/errors';
import { requestIdFor } from './request-log';
import { SECURITY_HEADERS } from './security-headers';

const TYPE_BASE = 'https://flash-sale.example/problems/';

const ANSWERS: Record<string, { status: number; detail: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, detail: 'the request line or headers exceed 16 KiB' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, detail: 'the request was not received in time' },
};

/*
 * Requests Node's HTTP parser refuses never reach Express; by default Node answers them with an
 * empty 400 or 431. This answers them as problem+json like every other error (with the same
 * security headers and a request id), then closes the
 * connection (the parser cannot resynchronise). Nothing is written once a response has begun.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, detail } = ANSWERS[error.code ?? ''] ?? { status: 400, detail: 'the request is not valid HTTP' };
  const body = JSON.stringify({
    type: TYPE_BASE + ErrorCode.InvalidRequest,
    title: 'The request is not valid',
    status,
    detail,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      SECURITY_HEADERS.map(([name, value]) => `${name}: ${value}\r\n`).join('') +
      // The request could not be parsed, so it has no id of its own to echo.
      `X-Request-Id: ${requestIdFor(undefined)}\r\n` +
      'Content-Type: application/problem+json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}
