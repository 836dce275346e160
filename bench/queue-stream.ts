/*
 * The sale's shoppers follow their place as the checkout page does (web/src/waiting-room.ts):
 * over `GET /v1/sales/:saleId/queue/me/events`, one connection per shopper as a browser has, until
 * the stream shows a final view (admitted, expired, sold out). A stream the API refuses (429 past
 * its caps, `Retry-After`) or that ends early is reported as such; the shopper then polls
 * queue/me instead (bench/sale-shopper.ts).
 */
import { Agent, request } from 'undici';
import { takeSseEvents } from '../clients/sse-events';
import type { QueuePositionView } from '../domain/waiting-room';

/**
 * The bench's API lets its one address hold this many streams (the caps of api/stream-limits.ts
 * stand for many browsers here). Under the machine's 20,000 open files per process, so the API
 * and the bench keep descriptors for the crowd's other connections; past it shoppers poll.
 */
export const SALE_STREAM_CAPS = { SSE_MAX_STREAMS: '15000', SSE_MAX_STREAMS_PER_IP: '15000' };

export interface StreamOutcome {
  /** The stream's HTTP status (0: the connection failed). */
  status: number;
  ms: number;
  /** The last `position` view the stream showed, if any. */
  last?: QueuePositionView;
  retryAfter?: number;
  /** Why the stream failed, when it did (status 0 or cut short): the error's code. */
  error?: string;
}

/** A pool of one connection per stream, up to `connections` open at once. */
export function queueStreams(baseUrl: string, connections: number) {
  // Longer than the API's 15 s heartbeat, so a quiet stream is never cut by the client.
  const dispatcher = new Agent({ connections, pipelining: 1, headersTimeout: 60_000, bodyTimeout: 60_000 });
  return {
    /** Follows the shopper's place until a final view, the stream's end, or `over()`. */
    async follow(saleId: string, token: string, over: () => boolean): Promise<StreamOutcome> {
      const started = performance.now();
      const abort = new AbortController();
      let last: QueuePositionView | undefined;
      try {
        const response = await request(`${baseUrl}/v1/sales/${saleId}/queue/me/events`, {
          headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
          dispatcher,
          signal: abort.signal,
        });
        const ms = performance.now() - started;
        if (response.statusCode !== 200) {
          await response.body.text();
          const retryAfter = Number(response.headers['retry-after']);
          return { status: response.statusCode, ms, ...(Number.isFinite(retryAfter) && retryAfter > 0 && { retryAfter }) };
        }
        let buffer = '';
        response.body.setEncoding('utf8');
        const watchdog = setInterval(() => over() && abort.abort(), 1_000);
        try {
          for await (const chunk of response.body) {
            const taken = takeSseEvents(buffer + (chunk as string));
            buffer = taken.rest;
            for (const { event, data } of taken.events) if (event === 'position') last = data as QueuePositionView;
            if (last && last.status !== 'waiting') break;
          }
        } finally {
          clearInterval(watchdog);
        }
        if (last?.status === 'waiting' || !last) response.body.destroy();
        return { status: 200, ms, ...(last && { last }) };
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as Error).name;
        // Cut after the view that ends it (the final event came, then the connection went): done.
        if (last && last.status !== 'waiting') return { status: 200, ms: performance.now() - started, last };
        return { status: 0, ms: performance.now() - started, error: code, ...(last && { last }) };
      }
    },
    close: () => dispatcher.close(),
  };
}

export type QueueStreams = ReturnType<typeof queueStreams>;
