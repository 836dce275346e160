import { Client } from 'pg';
import type { Logger } from 'pino';

/*
 * Sold-out answered from memory. A claim that finds no unit marks its sale sold out; every
 * release notifies `unit_released` (db/queries/release-reservation.ts) and clears the mark at
 * once. Bounds, so no claim is refused for long after a unit comes back:
 * - the mark lapses after `ttlMs` even if no notification came (at most one claim per sale and
 *   ttl then reaches the database, and marks it again if it is still sold out);
 * - while the LISTEN connection is down no sale counts as sold out: every claim asks Postgres.
 */
export interface SoldOutRegistry {
  isSoldOut(saleId: string): boolean;
  markSoldOut(saleId: string): void;
  stop(): Promise<void>;
}

export function createSoldOutRegistry(options: { databaseUrl: string; logger: Logger; ttlMs?: number }): SoldOutRegistry {
  const ttlMs = options.ttlMs ?? 1_000;
  const soldOutUntil = new Map<string, number>();
  let listening = false;
  let stopped = false;
  let client: Client | undefined;

  const connect = async (): Promise<void> => {
    while (!stopped) {
      const candidate = new Client({ connectionString: options.databaseUrl, application_name: 'flash-sale-api-listener' });
      try {
        await candidate.connect();
        candidate.on('notification', (message) => {
          if (message.payload) soldOutUntil.delete(message.payload);
        });
        candidate.on('error', () => undefined);
        candidate.on('end', () => {
          listening = false;
          soldOutUntil.clear();
          if (!stopped) {
            options.logger.warn('release listener disconnected; reconnecting');
            setTimeout(() => void connect(), 1_000).unref();
          }
        });
        await candidate.query('listen unit_released');
        client = candidate;
        listening = true;
        return;
      } catch (error) {
        await candidate.end().catch(() => undefined);
        options.logger.warn({ err: error }, 'release listener could not connect; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  };
  void connect();

  return {
    isSoldOut(saleId) {
      if (!listening) return false;
      const until = soldOutUntil.get(saleId);
      return until !== undefined && until > Date.now();
    },
    markSoldOut(saleId) {
      if (listening) soldOutUntil.set(saleId, Date.now() + ttlMs);
    },
    async stop() {
      stopped = true;
      listening = false;
      await client?.end().catch(() => undefined);
    },
  };
}
