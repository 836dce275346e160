/** "1:05", "12:00", "3:04:05", "2 d 03:04:05": what is left until a moment, never negative. */
export function formatRemaining(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86_400);
  const hours = Math.floor((total % 86_400) / 3_600);
  const minutes = Math.floor((total % 3_600) / 60);
  const seconds = total % 60;
  const two = (n: number) => String(n).padStart(2, '0');
  if (days > 0) return `${days} d ${two(hours)}:${two(minutes)}:${two(seconds)}`;
  if (hours > 0) return `${hours}:${two(minutes)}:${two(seconds)}`;
  return `${minutes}:${two(seconds)}`;
}

/**
 * Calls `tick(remainingMs)` now and about every quarter second until `until` (ms since the
 * epoch), then `done()` once. The server's clock is the reference: `offsetMs` is server - local.
 */
export function countDown(until: number, offsetMs: number, tick: (remainingMs: number) => void, done: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const step = () => {
    const remaining = until - (Date.now() + offsetMs);
    tick(remaining);
    if (remaining <= 0) return done();
    timer = setTimeout(step, Math.min(250, remaining));
  };
  step();
  return () => clearTimeout(timer);
}
