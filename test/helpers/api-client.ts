import { mintShopperToken } from '../../scripts/shopper-token';
import { Agent, request } from 'undici';
import { TEST_SECRETS } from './app-under-test';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  contentType: string;
  body: T;
  ms: number;
  headers: Record<string, string | string[] | undefined>;
}

export function shopperToken(shopperId: string, secret = TEST_SECRETS.JWT_SECRET, expiresIn = '1h'): Promise<string> {
  return mintShopperToken(secret, shopperId, expiresIn);
}

/** A small HTTP client over undici with its own connection pool, so a test can open thousands of requests at once. */
export function apiClient(baseUrl: string, connections = 512) {
  const dispatcher = new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000 });
  async function call<T = Record<string, unknown>>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const response = await request(baseUrl + path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      dispatcher,
    });
    const text = await response.body.text();
    const ms = performance.now() - started;
    const contentType = String(response.headers['content-type'] ?? '');
    return { status: response.statusCode, contentType, body: (text ? JSON.parse(text) : {}) as T, ms, headers: response.headers };
  }
  return {
    get: <T = Record<string, unknown>>(path: string, token?: string) => call<T>('GET', path, { token }),
    post: <T = Record<string, unknown>>(
      path: string,
      options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
    ) => call<T>('POST', path, options),
    delete: <T = Record<string, unknown>>(path: string, token?: string) => call<T>('DELETE', path, { token }),
    close: () => dispatcher.close(),
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
