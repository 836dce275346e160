import { Agent, request } from 'undici';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

export interface RequestStats {
  requests: number;
  retries: number;
  /** No HTTP answer: refused, reset, timed out. */
  transportErrors: number;
  /** Answers by status, e.g. `503`. */
  byStatus: Record<string, number>;
  /** Calls that were still failing after the last retry. */
  gaveUp: number;
}

const RETRYABLE = (status: number) => status >= 500 || status === 429;

/**
 * What a checkout page does: a request that meets a dead process (no answer, 5xx, 503) is retried
 * a few times with exponential backoff and the same Idempotency-Key.
 */
export function chaosHttp(baseUrl: string, attempts = 6) {
  const dispatcher = new Agent({ connections: 128, keepAliveTimeout: 4_000, headersTimeout: 15_000, bodyTimeout: 15_000 });
  const stats: RequestStats = { requests: 0, retries: 0, transportErrors: 0, byStatus: {}, gaveUp: 0 };

  async function once(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
    stats.requests++;
    const response = await request(baseUrl + path, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher,
    });
    const text = await response.body.text();
    stats.byStatus[response.statusCode] = (stats.byStatus[response.statusCode] ?? 0) + 1;
    let parsed: Record<string, unknown> = {};
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    return { status: response.statusCode, body: parsed };
  }

  /** Resolves with the last answer, or undefined when every attempt failed without one. */
  async function call(
    method: 'GET' | 'POST',
    path: string,
    options: { token: string; body?: unknown; idempotencyKey?: string; headers?: Record<string, string> },
  ): Promise<Answer | undefined> {
    const headers: Record<string, string> = { ...options.headers, authorization: `Bearer ${options.token}` };
    if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
    let last: Answer | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        stats.retries++;
        const backoff = Math.min(8_000, 300 * 2 ** attempt);
        await new Promise((resolve) => setTimeout(resolve, backoff / 2 + Math.random() * (backoff / 2)));
      }
      try {
        last = await once(method, path, headers, options.body);
        if (!RETRYABLE(last.status)) return last;
      } catch {
        stats.transportErrors++;
        last = undefined;
      }
    }
    stats.gaveUp++;
    return last;
  }

  return { call, stats, close: () => dispatcher.close() };
}

export type ChaosHttp = ReturnType<typeof chaosHttp>;
