import { Client } from 'pg';
import type { Logger } from 'pino';
import { TCP_KEEPALIVE } from '../../db/pool';

/*
 * Sold-out answered from memory. A claim that finds no unit marks its sale sold out; every
 * release notifies `unit_released` (db/queries/release-reservation.ts) and clears the mark at
 * once. A claim takes a ticket before asking Postgres and marks the sale only if no release was
 * notified since, so a release that lands between its query and its mark cannot leave a stale
 * mark behind. Bounds, so no claim is refused for long after a unit comes back:
 * - the mark lapses after `ttlMs` (3 s) even if no notification came: a unit can come back
 *   without one when a claim that had it locked rolls back (a shopper racing themselves). Past
 *   the lapse one claim at a time probes Postgres; a probe that finds no unit marks the sale
 *   again, one that gets a unit clears the mark for everyone (`unitClaimed`);
 * - while the LISTEN connection is down no sale counts as sold out: every claim asks Postgres.
 */
export interface SoldOutRegistry {
  /** Marked and not lapsed. */
  isSoldOut(saleId: string): boolean;
  /**
   * The gate in front of a claim: 'sold-out' while marked; once a mark lapses, one claim at a time
   * (at most every 250 ms) is let through to ask Postgres and the rest keep the memory answer.
   * With `grantProbe` false (the fast path, which hands what it lets through to the route) it only
   * reads: it never spends the probe on a request that the route would then refuse.
   */
  admit(saleId: string, grantProbe?: boolean): 'sold-out' | 'claim';
  /** Taken before a claim asks Postgres; handed back to markSoldOut. */
  ticket(saleId: string): number;
  markSoldOut(saleId: string, ticket: number): void;
  /** A claim got a unit: a lapsed mark goes (units came back unannounced); a fresh one stays until it lapses. */
  unitClaimed(saleId: string): void;
  stop(): Promise<void>;
}

export function createSoldOutRegistry(options: { databaseUrl: string; logger: Logger; ttlMs?: number }): SoldOutRegistry {
  const ttlMs = options.ttlMs ?? 3_000;
  const soldOutUntil = new Map<string, number>();
  const probeUntil = new Map<string, number>();
  const releases = new Map<string, number>();
  let epoch = 0; // bumped when the listener (re)connects: tickets from before cannot mark
  let listening = false;
  let stopped = false;
  let client: Client | undefined;

  const released = (saleId: string) => {
    soldOutUntil.delete(saleId);
    probeUntil.delete(saleId);
    releases.set(saleId, (releases.get(saleId) ?? 0) + 1);
  };

  const connect = async (): Promise<void> => {
    while (!stopped) {
      // Keepalive: a half-open connection after a failover errors out instead of staying deaf.
      const candidate = new Client({
        connectionString: options.databaseUrl,
        application_name: 'flash-sale-api-listener',
        ...TCP_KEEPALIVE,
      });
      try {
        await candidate.connect();
        candidate.on('notification', (message) => {
          if (message.payload) released(message.payload);
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
        epoch++;
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

  // A ticket packs the listener epoch and the sale's release count; any change voids it.
  const ticketOf = (saleId: string) => epoch * 1_000_000_000 + (releases.get(saleId) ?? 0);

  return {
    isSoldOut(saleId) {
      if (!listening) return false;
      const until = soldOutUntil.get(saleId);
      return until !== undefined && until > Date.now();
    },
    admit(saleId, grantProbe = true) {
      if (!listening) return 'claim';
      const until = soldOutUntil.get(saleId);
      const now = Date.now();
      if (until === undefined) return 'claim';
      if (until > now || (probeUntil.get(saleId) ?? 0) > now) return 'sold-out';
      if (grantProbe) probeUntil.set(saleId, now + 250);
      return 'claim';
    },
    ticket: (saleId) => (listening ? ticketOf(saleId) : -1),
    markSoldOut(saleId, ticket) {
      if (listening && ticket >= 0 && ticket === ticketOf(saleId)) {
        soldOutUntil.set(saleId, Date.now() + ttlMs);
        probeUntil.delete(saleId);
      }
    },
    unitClaimed(saleId) {
      const until = soldOutUntil.get(saleId);
      if (until !== undefined && until <= Date.now()) {
        soldOutUntil.delete(saleId);
        probeUntil.delete(saleId);
      }
    },
    async stop() {
      stopped = true;
      listening = false;
      await client?.end().catch(() => undefined);
    },
  };
}
