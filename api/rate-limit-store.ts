import type { ClientRateLimitInfo, Options, Store } from 'express-rate-limit';

interface Client {
  totalHits: number;
  resetTime: Date;
}

/*
 * The counters of express-rate-limit's MemoryStore (one fixed window per key, started by the key's
 * first hit), answered synchronously: a fast path in front of Express (api/sold-out-fast-path.ts)
 * must decide before it returns, and counts in the same budget as the Express limiter given this
 * store. Keys idle for two windows are dropped in bulk, as MemoryStore drops them.
 */
export class SyncMemoryStore implements Store {
  readonly localKeys = true;
  private windowMs = 60_000;
  private current = new Map<string, Client>();
  private previous = new Map<string, Client>();
  private interval: NodeJS.Timeout | undefined;

  init(options: Options): void {
    this.windowMs = options.windowMs;
    clearInterval(this.interval);
    this.interval = setInterval(() => {
      this.previous = this.current;
      this.current = new Map();
    }, this.windowMs);
    this.interval.unref();
  }

  get(key: string): ClientRateLimitInfo | undefined {
    const client = this.current.get(key) ?? this.previous.get(key);
    return client && client.resetTime.getTime() > Date.now() ? client : undefined;
  }

  increment(key: string): ClientRateLimitInfo {
    const now = Date.now();
    let client = this.current.get(key) ?? this.previous.get(key);
    if (!client || client.resetTime.getTime() <= now) client = { totalHits: 0, resetTime: new Date(now + this.windowMs) };
    this.previous.delete(key);
    this.current.set(key, client);
    client.totalHits++;
    return client;
  }

  decrement(key: string): void {
    const client = this.current.get(key) ?? this.previous.get(key);
    if (client && client.totalHits > 0) client.totalHits--;
  }

  resetKey(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  resetAll(): void {
    this.current.clear();
    this.previous.clear();
  }

  shutdown(): void {
    clearInterval(this.interval);
    this.resetAll();
  }
}
