/*
 * Server-Sent Events as the API writes them (api/event-stream.ts): blocks of `event:` and `data:`
 * lines ending with a blank line. Read by the bench's and the tests' stream followers in Node; the
 * checkout page has its own reader (web/src/event-stream.ts), which also honours `retry`.
 */
export interface SseEvent {
  event: string;
  data: unknown;
}

/**
 * The complete events at the start of `buffer` (each ends with a blank line), and the rest, which
 * waits for more text. Blocks without data (the `retry:` line, heartbeat comments) are skipped;
 * data that is JSON is parsed, other data kept as text.
 */
export function takeSseEvents(buffer: string): { events: SseEvent[]; rest: string } {
  const events: SseEvent[] = [];
  let rest = buffer;
  let end: number;
  while ((end = rest.indexOf('\n\n')) >= 0) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) continue;
    const text = data.join('\n');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text
    }
    events.push({ event, data: parsed });
  }
  return { events, rest };
}
