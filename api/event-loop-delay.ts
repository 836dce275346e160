/** How late this process's event loop runs (api/crowd-shedding.ts reads it before each crowd request). */
export interface EventLoopDelay {
  /** Milliseconds: the larger of the last timer's lateness and how far past due the next one is now. */
  now(): number;
  stop(): void;
}

/*
 * A timer due every `everyMs` notes how late it fired; between two firings, the time past the
 * next one's due moment counts as well, so a request read late in one long turn of the loop (a
 * backlog of sockets to read) sees that turn's length so far, not only the last turn's.
 * node:perf_hooks' monitorEventLoopDelay measures the same lateness, but only of turns that are
 * over, into a histogram that would have to be read and reset on a timer of its own anyway. The
 * timer is unref'd: it never keeps the process up.
 */
export function watchEventLoopDelay(everyMs = 10): EventLoopDelay {
  let due = performance.now() + everyMs;
  let last = 0;
  const timer = setInterval(() => {
    const at = performance.now();
    last = Math.max(0, at - due);
    due = at + everyMs;
  }, everyMs).unref();
  return {
    now: () => Math.max(last, performance.now() - due),
    stop: () => clearInterval(timer),
  };
}
