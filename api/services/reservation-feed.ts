import { Client } from 'pg';
import type { Logger } from 'pino';

/*
 * Tells the open reservation streams (GET /v1/reservations/:id/events) when their reservation
 * moved. One LISTEN connection per API process on `reservation_changed`, which a trigger
 * notifies with the reservation id (migrations/0009); a stream re-reads its row only then. While
 * the connection is down nothing is heard, so on every (re)connect each subscriber is told to
 * re-read: a change made while it was deaf is picked up then.
 */
export interface ReservationFeed {
  /** Calls `changed` whenever `reservationId` may have changed; returns the unsubscribe function. */
  subscribe(reservationId: string, changed: () => void): () => void;
  /** How many streams are open (for tests and metrics). */
  subscribers(): number;
  /** Ends the LISTEN connection; subscribers are told to close through `onStop`. */
  stop(): Promise<void>;
  /** Called once by stop(), e.g. to end every open stream before the server closes. */
  onStop(listener: () => void): () => void;
}

export const RESERVATION_CHANGED_CHANNEL = 'reservation_changed';

export function createReservationFeed(options: { databaseUrl: string; logger: Logger }): ReservationFeed {
  const listeners = new Map<string, Set<() => void>>();
  const stopListeners = new Set<() => void>();
  let stopped = false;
  let client: Client | undefined;

  const tell = (reservationId: string) => {
    for (const changed of listeners.get(reservationId) ?? []) changed();
  };
  const tellEveryone = () => {
    for (const id of listeners.keys()) tell(id);
  };

  const connect = async (): Promise<void> => {
    while (!stopped) {
      const candidate = new Client({
        connectionString: options.databaseUrl,
        application_name: 'flash-sale-api-reservation-feed',
      });
      try {
        await candidate.connect();
        candidate.on('notification', (message) => {
          if (message.payload) tell(message.payload);
        });
        candidate.on('error', () => undefined);
        candidate.on('end', () => {
          if (!stopped) {
            options.logger.warn('reservation feed disconnected; reconnecting');
            setTimeout(() => void connect(), 1_000).unref();
          }
        });
        await candidate.query(`listen ${RESERVATION_CHANGED_CHANNEL}`);
        client = candidate;
        tellEveryone();
        return;
      } catch (error) {
        await candidate.end().catch(() => undefined);
        options.logger.warn({ err: error }, 'reservation feed could not connect; retrying');
        await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
      }
    }
  };
  void connect();

  return {
    subscribe(reservationId, changed) {
      let set = listeners.get(reservationId);
      if (!set) listeners.set(reservationId, (set = new Set()));
      set.add(changed);
      return () => {
        set.delete(changed);
        if (set.size === 0) listeners.delete(reservationId);
      };
    },
    subscribers: () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
    onStop(listener) {
      stopListeners.add(listener);
      return () => stopListeners.delete(listener);
    },
    async stop() {
      stopped = true;
      for (const listener of [...stopListeners]) listener();
      await client?.end().catch(() => undefined);
    },
  };
}
