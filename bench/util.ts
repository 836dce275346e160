import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export function summarize(latenciesMs: number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 10) / 10);
  return {
    count: sorted.length,
    p50: round(percentile(sorted, 50)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? null),
  };
}

/** A closed-loop run's figures: its seconds, the flows completed, their rate per second and latency. */
export function closedLoopFigures(latenciesMs: number[], startedAt: number) {
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    seconds: Math.round(seconds * 10) / 10,
    completed: latenciesMs.length,
    perSecond: Math.round((latenciesMs.length / seconds) * 10) / 10,
    latencyMs: summarize(latenciesMs),
  };
}

/** Resident set size in MB, from /proc/<pid>/status (VmRSS); null once the process is gone. */
export function rssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null;
  }
}

/** CPU time the process used so far, in seconds (utime + stime from /proc/<pid>/stat, at 100 ticks/s). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak and the last sample. */
export function rssSampler(pid: number | undefined, everyMs = 200) {
  let peak = rssMb(pid) ?? 0;
  let last = peak;
  const timer = setInterval(() => {
    const now = rssMb(pid);
    if (now === null) return;
    last = now;
    peak = Math.max(peak, now);
  }, everyMs);
  return {
    stop(): { peakMb: number; lastMb: number } {
      clearInterval(timer);
      const now = rssMb(pid);
      if (now !== null) {
        last = now;
        peak = Math.max(peak, now);
      }
      return { peakMb: peak, lastMb: last };
    },
  };
}

export { mintShopperToken } from '../scripts/shopper-token';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
  ms: number;
  /** Milliseconds since the caller's reference instant when the answer was complete. */
  doneAt: number;
  /** `Retry-After` in seconds, when the answer had one. */
  retryAfter?: number;
}

/**
 * A tiny JSON client on its own undici pool; only 127.0.0.1 (the bench never talks to anything
 * else). Every request has a time limit so no loop can hang.
 */
export function httpClient(baseUrl: string, connections: number, timeoutMs = 60_000) {
  if (!baseUrl.startsWith('http://127.0.0.1:')) throw new Error(`the bench only talks to 127.0.0.1, not ${baseUrl}`);
  const dispatcher = new Agent({ connections, pipelining: 1, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  async function call(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown; since?: number; headers?: Record<string, string> } = {},
  ): Promise<HttpAnswer> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const response = await request(baseUrl + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      dispatcher,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.body.text();
    const done = performance.now();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { raw: text.slice(0, 200) };
    }
    const retryAfter = Number(response.headers['retry-after']);
    return {
      status: response.statusCode,
      body,
      ms: done - started,
      doneAt: done - (options.since ?? started),
      ...(Number.isFinite(retryAfter) && response.headers['retry-after'] !== undefined && { retryAfter }),
    };
  }
  return {
    get: (path: string, token?: string, headers?: Record<string, string>) => call('GET', path, { token, headers }),
    post: (path: string, options: { token?: string; body?: unknown; since?: number; headers?: Record<string, string> } = {}) =>
      call('POST', path, options),
    close: () => dispatcher.close(),
  };
}

export type HttpClient = ReturnType<typeof httpClient>;

export const isSoldOut = (answer: Pick<HttpAnswer, 'status' | 'body'>) =>
  answer.status === 409 && String(answer.body.type).endsWith('/sold-out');

/** Polls `probe` every `everyMs` until `accept` holds or `timeoutMs` passes; returns whether it held. */
export async function pollUntil<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs: number, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!accept(value) && Date.now() < deadline) {
    await sleep(everyMs);
    value = await probe();
  }
  return { ok: accept(value), value };
}
