import { Agent, request } from 'undici';
import { takeSseEvents, type SseEvent } from '../../clients/sse-events';
import { conditionDeadlineMs } from './sales';

export type { SseEvent };

export interface SseStream {
  status: number;
  contentType: string;
  events: SseEvent[];
  /** Resolves with the first event (already received or to come) that `accept` takes. */
  next(accept: (event: SseEvent) => boolean, timeoutMs: number, what: string): Promise<SseEvent>;
  close(): void;
}

/** Opens a Server-Sent Events stream and collects its events, for tests. */
export async function openSse(url: string, options: { token?: string; dispatcher?: Agent } = {}): Promise<SseStream> {
  const controller = new AbortController();
  const response = await request(url, {
    method: 'GET',
    headers: { accept: 'text/event-stream', ...(options.token && { authorization: `Bearer ${options.token}` }) },
    signal: controller.signal,
    ...(options.dispatcher && { dispatcher: options.dispatcher }),
  });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  response.body.setEncoding('utf8');
  response.body.on('data', (chunk: string) => {
    const taken = takeSseEvents(buffer + chunk);
    buffer = taken.rest;
    events.push(...taken.events);
    if (taken.events.length > 0) for (const wake of waiters) wake();
  });
  response.body.on('error', () => undefined);
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    events,
    next(accept, requestedMs, what) {
      const timeoutMs = conditionDeadlineMs(requestedMs);
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.find(accept);
          if (!found) return false;
          cleanup();
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`${what}: not seen within ${timeoutMs} ms; last ${JSON.stringify(events.at(-1))}`));
        }, timeoutMs);
        const wake = () => void check();
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
        check();
      });
    },
    close: () => controller.abort(),
  };
}
