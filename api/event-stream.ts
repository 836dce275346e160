import type { Request, Response } from 'express';
import type { ChangeFeed } from './services/change-feed';

/** A comment line this often keeps proxies from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

export interface EventStream {
  /** Writes one event; a `data` equal to the last one sent is skipped. */
  send(event: string, data: unknown): void;
  close(): void;
  readonly closed: boolean;
}

/**
 * Starts a `text/event-stream` answer: the headers, `retry: 2000`, a heartbeat, and the end of
 * the stream when the client goes away or the feed stops (the server shutting down).
 */
export function startEventStream(req: Request, res: Response, feed: ChangeFeed, onClose: () => void): EventStream {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    // nginx (deploy/) would otherwise buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  let lastSent = '';
  let closed = false;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  const stopListening = feed.onStop(() => stream.close());
  const stream: EventStream = {
    send(event, data) {
      if (closed) return;
      const text = JSON.stringify(data);
      if (text === lastSent) return;
      lastSent = text;
      res.write(`event: ${event}\ndata: ${text}\n\n`);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      stopListening();
      onClose();
      res.end();
    },
    get closed() {
      return closed;
    },
  };
  req.on('close', () => stream.close());
  return stream;
}

/** Runs `read` once at a time; a call while one runs makes it run once more after. */
export function coalesced(read: () => Promise<void>, onError: (error: unknown) => void): () => void {
  let running = false;
  let again = false;
  const run = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        await read();
      } while (again);
    } catch (error) {
      onError(error);
    } finally {
      running = false;
    }
  };
  return () => void run();
}
