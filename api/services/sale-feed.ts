import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Counter, Gauge } from 'prom-client';
import type { SaleRow } from '../../db/rows';
import { saleStatus } from '../../db/rows';
import type { SalePoint } from '../../domain/sale-feed';

/*
 * The live state of a sale for the event streams (GET /v1/sales/:saleId/events and the admin's
 * /v1/admin/sales/:saleId/events): ONE poller per sale per API process, started by the first
 * subscriber and stopped when the last one leaves, whose snapshot is fanned out to every
 * subscriber. A thousand open dashboards cost one query a second, not a thousand
 * (test/integration/sale-feed.test.ts counts the polls through `sale_feed_polls_total`).
 */

export interface SaleFeedOptions {
  pool: Pool;
  logger: Logger;
  /** Time between two readings of a sale. */
  pollMs?: number;
  /** How many readings each sale keeps (the dashboard's history); 600 at 1 s is 10 minutes. */
  historySize?: number;
  metrics?: { polls: Counter<'outcome'>; subscribers: Gauge };
}

export type SaleFeedListener = (point: SalePoint) => void;

export interface SaleFeed {
  /** Calls `listener` with every new reading of the sale (and at once with the latest, if any). */
  subscribe(sale: SaleRow, listener: SaleFeedListener): () => void;
  /** The readings kept for the sale, oldest first (empty when no poller runs for it). */
  history(saleId: string): SalePoint[];
  /** Counts one claim answer of this process, for `claimsPerSecond`. */
  countClaim(saleId: string, outcome: string): void;
  /** How many sales have a poller right now. */
  pollers(): number;
  stop(): void;
}

interface PollRow {
  units: Record<string, number> | null;
  expiring: number;
  starts_refused: number;
  last_start_refusal: string | null;
  payments: Record<string, number> | null;
  reservations: number;
  queue_length: number | null;
  serving: number | null;
}

/** One statement, so a reading is consistent; every part runs on an index scoped to the sale. */
const POLL_SQL = `
select
  (select json_object_agg(status, n) from
     (select status, count(*)::int as n from units where sale_id = $1::uuid group by status) u) as units,
  (select count(*)::int from reservations
     where status = 'held' and expires_at < now() + interval '1 minute' and sale_id = $1::uuid) as expiring,
  (select count(*)::int from reservations
     where sale_id = $1::uuid and start_refused_at is not null) as starts_refused,
  (select start_refusal from reservations
     where sale_id = $1::uuid and start_refused_at is not null
     order by start_refused_at desc limit 1) as last_start_refusal,
  (select json_object_agg(payment_status, n) from
     (select payment_status, count(*)::int as n from reservations
        where sale_id = $1::uuid and payment_status is not null group by payment_status) p) as payments,
  (select count(*)::int from reservations where sale_id = $1::uuid) as reservations,
  (select (w.assigned - w.serving)
          + (select count(*)::int from queue_tickets q where q.sale_id = w.sale_id and q.position is null)
     from waiting_rooms w where w.sale_id = $1::uuid) as queue_length,
  (select serving from waiting_rooms where sale_id = $1::uuid) as serving`;

interface Poller {
  sale: SaleRow;
  listeners: Set<SaleFeedListener>;
  history: SalePoint[];
  timer: NodeJS.Timeout | undefined;
  previous: { at: number; reservations: number; serving: number | null } | undefined;
  stopped: boolean;
}

export function createSaleFeed(options: SaleFeedOptions): SaleFeed {
  const pollMs = options.pollMs ?? 1000;
  const historySize = options.historySize ?? 600;
  const pollers = new Map<string, Poller>();
  /** Claim answers of this process per sale and outcome since that sale's last reading. */
  const claims = new Map<string, Map<string, number>>();

  const readOnce = async (poller: Poller): Promise<SalePoint> => {
    const { rows } = await options.pool.query<PollRow>({ name: 'sale-feed-poll', text: POLL_SQL, values: [poller.sale.id] });
    const row = rows[0]!;
    const at = Date.now();
    const units: Record<string, number> = { available: 0, held: 0, sold: 0, withdrawn: 0, ...row.units };
    const seconds = poller.previous ? Math.max(0.001, (at - poller.previous.at) / 1000) : 0;
    const rate = (delta: number) => (seconds > 0 ? Math.round((delta / seconds) * 10) / 10 : 0);
    const tally = claims.get(poller.sale.id) ?? new Map<string, number>();
    claims.set(poller.sale.id, new Map());
    const claimsPerSecond: Record<string, number> = {};
    for (const [outcome, count] of tally) claimsPerSecond[outcome] = rate(count);
    const point: SalePoint = {
      at,
      status: saleStatus(
        poller.sale,
        { available: units.available!, held: units.held!, sold: units.sold!, withdrawn: units.withdrawn! },
        new Date(at),
      ),
      units,
      expiringNextMinute: row.expiring,
      startsRefused: row.starts_refused,
      lastStartRefusal: row.last_start_refusal,
      payments: row.payments ?? {},
      claimsPerSecond,
      reservationsPerSecond: poller.previous ? rate(row.reservations - poller.previous.reservations) : 0,
      queue:
        row.queue_length === null
          ? null
          : {
              length: row.queue_length,
              admittedPerSecond:
                poller.previous?.serving != null && row.serving !== null ? rate(row.serving - poller.previous.serving) : 0,
            },
    };
    poller.previous = { at, reservations: row.reservations, serving: row.serving };
    return point;
  };

  const tick = async (poller: Poller) => {
    try {
      const point = await readOnce(poller);
      options.metrics?.polls.inc({ outcome: 'ok' });
      if (poller.stopped) return;
      poller.history.push(point);
      if (poller.history.length > historySize) poller.history.splice(0, poller.history.length - historySize);
      for (const listener of poller.listeners) listener(point);
    } catch (error) {
      options.metrics?.polls.inc({ outcome: 'error' });
      options.logger.warn({ err: error, saleId: poller.sale.id }, 'sale feed could not read the sale');
    } finally {
      // The next reading is scheduled after this one ends, so two never overlap.
      if (!poller.stopped) poller.timer = setTimeout(() => void tick(poller), pollMs);
    }
  };

  const stopPoller = (poller: Poller) => {
    poller.stopped = true;
    clearTimeout(poller.timer);
    pollers.delete(poller.sale.id);
    claims.delete(poller.sale.id);
  };

  return {
    subscribe(sale, listener) {
      let poller = pollers.get(sale.id);
      if (!poller) {
        poller = { sale, listeners: new Set(), history: [], timer: undefined, previous: undefined, stopped: false };
        pollers.set(sale.id, poller);
        const started = poller;
        void tick(started);
      } else {
        const latest = poller.history.at(-1);
        if (latest) listener(latest);
      }
      const own = poller;
      own.listeners.add(listener);
      options.metrics?.subscribers.inc();
      let left = false;
      return () => {
        if (left) return;
        left = true;
        own.listeners.delete(listener);
        options.metrics?.subscribers.dec();
        if (own.listeners.size === 0) stopPoller(own);
      };
    },
    history: (saleId) => [...(pollers.get(saleId)?.history ?? [])],
    countClaim(saleId, outcome) {
      // Only sales someone is watching are tallied, so the map stays as small as the pollers.
      if (!pollers.has(saleId)) return;
      const counts = claims.get(saleId) ?? new Map<string, number>();
      counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
      claims.set(saleId, counts);
    },
    pollers: () => pollers.size,
    stop() {
      for (const poller of [...pollers.values()]) stopPoller(poller);
    },
  };
}
