import type { Request, Response } from 'express';
import type { ChangeChannel, ChangeFeed } from './services/change-feed';

/** A comment line this often keeps proxies from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;

export interface EventStream {
  /** Writes one event; a `data` equal to the last one sent is skipped. */
  send(event: string, data: unknown): void;
  close(): void;
  /** Runs `cleanup` (an unsubscribe) when the stream closes, or at once if it has closed already. */
  onClose(cleanup: () => void): void;
  readonly closed: boolean;
}

/**
 * Starts a `text/event-stream` answer: the headers, `retry: 2000`, a heartbeat, and the end of
 * the stream when the client goes away or the feed stops (the server shutting down).
 */
export function startEventStream(req: Request, res: Response, feed: ChangeFeed): EventStream {
  res.writeHead(200, {
    'Content-Type': 'text/event-stream; charset=utf-8',
    'Cache-Control': 'no-cache, no-transform',
    // nginx (deploy/) would otherwise buffer the stream.
    'X-Accel-Buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  let lastSent = '';
  let closed = false;
  const cleanups: (() => void)[] = [];
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
      for (const cleanup of cleanups.splice(0)) cleanup();
      res.end();
    },
    onClose(cleanup) {
      if (closed) cleanup();
      else cleanups.push(cleanup);
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

export interface FollowedView<V> {
  feed: ChangeFeed;
  /** The notification channel and key that say the view may have changed. */
  channel: ChangeChannel;
  key: string;
  /** The event name each view is sent as. */
  event: string;
  /** The view as first read, sent at once. */
  first: V;
  /** Reads the view again; undefined sends nothing. */
  read: () => Promise<V | undefined>;
  /** A final view ends the stream after it is sent. */
  isFinal: (view: V) => boolean;
  onReadError: (error: unknown) => void;
}

/**
 * Streams one record's view as it changes: `first` at once, then the view read again (one read at
 * a time) on each notification of `channel` for `key`, and once right after subscribing, which
 * catches a change that committed between the first read and the subscription. An unchanged view
 * sends nothing; the stream ends after a final view.
 */
export function followView<V>(req: Request, res: Response, follow: FollowedView<V>): EventStream {
  const stream = startEventStream(req, res, follow.feed);
  const send = (view: V) => {
    stream.send(follow.event, view);
    if (follow.isFinal(view)) stream.close();
  };
  const reread = coalesced(async () => {
    if (stream.closed) return;
    const view = await follow.read();
    if (view) send(view);
  }, follow.onReadError);
  stream.onClose(follow.feed.subscribe(follow.channel, follow.key, reread));
  send(follow.first);
  reread();
  return stream;
}
