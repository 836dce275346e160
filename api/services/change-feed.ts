import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import type { Logger } from 'pino';
import { TCP_KEEPALIVE } from '../../db/pool';

/*
 * Tells the open event streams when what they show may have moved, from Postgres notifications:
 * one LISTEN connection per API process, whatever the number of streams. Triggers notify
 * (migrations/0009): `reservation_changed` with a reservation id when its status, payment or hold
 * end changes; `queue_moved` with `{"saleId", "serving", "assigned"}` when a waiting room's
 * counters move; `waitlist_moved` (migrations/0011) with a sale id when an entry of its waitlist
 * leaves `waiting` (an offer, or a turn passed over). While the connection is down nothing is heard, so on every (re)connect each
 * subscriber is called without a payload, meaning "re-read": a change made while the feed was
 * deaf is picked up then. A connection that went deaf without closing (half-open) is found by a
 * NOTIFY to itself every `checkEveryMs` that does not come back, and by TCP keepalive.
 */
export const CHANGE_CHANNELS = {
  reservation: 'reservation_changed',
  queue: 'queue_moved',
  waitlist: 'waitlist_moved',
} as const;
export type ChangeChannel = (typeof CHANGE_CHANNELS)[keyof typeof CHANGE_CHANNELS];

export interface QueueMoved {
  saleId: string;
  serving: number;
  assigned: number;
  /** Nothing can come back any more (migration 0012); absent from notifications sent before it. */
  soldOut?: boolean;
}

export interface ChangeFeed {
  /** `changed(payload)` for every notification about `key` on `channel`; `changed()` after a reconnect. */
  subscribe(channel: ChangeChannel, key: string, changed: (payload?: string) => void): () => void;
  /** How many subscriptions are open. */
  subscribers(): number;
  /** Called once by stop(), e.g. to end every open stream before the server closes. */
  onStop(listener: () => void): () => void;
  stop(): Promise<void>;
}

/** The key a notification is about: the reservation id, the sale id of a waitlist or queue move. */
function keyOf(channel: string, payload: string): string | undefined {
  if (channel === CHANGE_CHANNELS.reservation || channel === CHANGE_CHANNELS.waitlist) return payload;
  if (channel === CHANGE_CHANNELS.queue) {
    try {
      const saleId: unknown = (JSON.parse(payload) as Partial<QueueMoved>).saleId;
      return typeof saleId === 'string' ? saleId : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface ChangeFeedOptions {
  databaseUrl: string;
  logger: Logger;
  /** How often the connection proves it still hears (CHANGE_FEED_CHECK_MS); no echo within as long again reconnects. */
  checkEveryMs?: number;
  onReconnect?: (reason: 'ended' | 'check-failed') => void;
}

/** pg's Client keeps its socket here; ending a half-open connection politely would wait forever. */
function destroySocket(client: Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const checkEveryMs = options.checkEveryMs ?? 10_000;
  const listeners = new Map<string, Set<(payload?: string) => void>>();
  const stopListeners = new Set<() => void>();
  let stopped = false;
  let client: Client | undefined;
  let checkTimer: NodeJS.Timeout | undefined;
  const slot = (channel: string, key: string) => `${channel}\u0000${key}`;
  // Its own channel, so only this connection hears its liveness echo.
  const echoChannel = `change_feed_echo_${randomBytes(6).toString('hex')}`;
  let awaitedEcho: string | undefined;

  const tell = (channel: string, payload: string) => {
    const key = keyOf(channel, payload);
    if (key === undefined) return;
    for (const changed of listeners.get(slot(channel, key)) ?? []) changed(payload);
  };
  const tellEveryone = () => {
    for (const set of listeners.values()) for (const changed of [...set]) changed();
  };

  /** Drops `dead` (if it is still the connection) and connects again after a second. */
  const reconnect = (dead: Client, reason: 'ended' | 'check-failed') => {
    if (stopped || client !== dead) return;
    client = undefined;
    clearTimeout(checkTimer);
    destroySocket(dead);
    options.onReconnect?.(reason);
    options.logger.warn({ reason }, 'change feed lost its connection; reconnecting');
    setTimeout(() => void connect(), 1_000).unref();
  };

  /*
   * A NOTIFY to itself every `checkEveryMs`: its echo comes back only over a connection that still
   * carries notifications both ways. A half-open connection (a failover, a dead path) answers
   * nothing and raises no error; TCP keepalive would notice only after minutes.
   */
  const scheduleCheck = (own: Client) => {
    checkTimer = setTimeout(() => {
      if (client !== own) return;
      const nonce = randomBytes(6).toString('hex');
      awaitedEcho = nonce;
      own.query('select pg_notify($1::text, $2::text)', [echoChannel, nonce]).catch(() => undefined);
      checkTimer = setTimeout(() => {
        if (client === own && awaitedEcho === nonce) reconnect(own, 'check-failed');
      }, checkEveryMs).unref();
    }, checkEveryMs).unref();
  };

  const connect = async (): Promise<void> => {
    while (!stopped) {
      const candidate = new Client({
        connectionString: options.databaseUrl,
        application_name: 'flash-sale-api-change-feed',
        ...TCP_KEEPALIVE,
      });
      try {
        await candidate.connect();
        candidate.on('notification', (message) => {
          if (message.channel === echoChannel) {
            if (message.payload === awaitedEcho && client === candidate) {
              awaitedEcho = undefined;
              clearTimeout(checkTimer);
              scheduleCheck(candidate);
            }
            return;
          }
          if (message.payload) tell(message.channel, message.payload);
        });
        candidate.on('error', () => undefined);
        candidate.on('end', () => reconnect(candidate, 'ended'));
        for (const channel of [...Object.values(CHANGE_CHANNELS), echoChannel]) await candidate.query(`listen ${channel}`);
        if (stopped) {
          await candidate.end().catch(() => undefined);
          return;
        }
        client = candidate;
        awaitedEcho = undefined;
        scheduleCheck(candidate);
        // A change made while the feed was deaf is caught by this re-read. The subscribers share
        // reads (one per waitlist sale, batched reservation reads), so it is no stampede.
        tellEveryone();
        return;
      } catch (error) {
        destroySocket(candidate);
        options.logger.warn({ err: error }, 'change feed could not connect; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  };
  void connect();

  return {
    subscribe(channel, key, changed) {
      const id = slot(channel, key);
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(changed);
      return () => {
        set.delete(changed);
        if (set.size === 0) listeners.delete(id);
      };
    },
    subscribers: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
    onStop(listener) {
      stopListeners.add(listener);
      return () => stopListeners.delete(listener);
    },
    async stop() {
      stopped = true;
      clearTimeout(checkTimer);
      for (const listener of [...stopListeners]) listener();
      await client?.end().catch(() => undefined);
    },
  };
}
