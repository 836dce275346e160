/*
 * Server-Sent Events read with fetch, because EventSource cannot send the Authorization header
 * the API needs. Parses the text/event-stream format (event, data and retry fields; comment
 * lines are heartbeats), and reconnects after the server's `retry` delay when the connection
 * drops (after its Retry-After when it refused the stream with 429: too many streams open), until
 * `stop()` or until `onEvent` returns 'done'.
 */
export interface StreamEvent {
  event: string;
  data: string;
}

export interface EventStreamOptions {
  url: string;
  token: string;
  onEvent(event: StreamEvent): 'done' | void;
  /** A connection failed or was refused (status 0 for a network error); it is retried unless this returns 'stop'. */
  onError?(status: number): 'stop' | void;
}

export function openEventStream(options: EventStreamOptions): { stop(): void } {
  const abort = new AbortController();
  let retryMs = 2_000;
  /** The wait before the next attempt when the server asked for a longer one than `retryMs`. */
  let waitMs: number | undefined;
  let done = false;

  const readOnce = async (): Promise<void> => {
    const response = await fetch(options.url, {
      headers: { Accept: 'text/event-stream', Authorization: `Bearer ${options.token}` },
      signal: abort.signal,
      cache: 'no-store',
    });
    if (!response.ok || !response.body) {
      const retryAfter = Number(response.headers.get('retry-after'));
      if (response.status === 429 && retryAfter > 0) waitMs = retryAfter * 1000;
      if (options.onError?.(response.status) === 'stop') done = true;
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = 'message';
    let data: string[] = [];
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return;
      buffer += value;
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (data.length > 0 && options.onEvent({ event, data: data.join('\n') }) === 'done') {
            done = true;
            abort.abort();
            return;
          }
          event = 'message';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = fieldValue;
        else if (field === 'data') data.push(fieldValue);
        else if (field === 'retry' && /^\d+$/.test(fieldValue)) retryMs = Number(fieldValue);
      }
    }
  };

  void (async () => {
    while (!done && !abort.signal.aborted) {
      try {
        await readOnce();
      } catch {
        if (abort.signal.aborted) return;
        if (options.onError?.(0) === 'stop') return;
      }
      if (done || abort.signal.aborted) return;
      const wait = Math.max(retryMs, waitMs ?? 0);
      waitMs = undefined;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();

  return {
    stop() {
      done = true;
      abort.abort();
    },
  };
}
