import { Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { findReservation } from '../../db/queries/find-reservation';
import { toReservationView } from '../../db/rows';
import { isFinal } from '../../domain/reservation';
import type { createAuth } from '../auth';
import { requestLogger } from '../request-log';
import type { ReservationFeed } from '../services/reservation-feed';
import { visibleReservation } from '../services/visible-reservation';

export interface ReservationEventsDeps {
  pool: Pool;
  auth: ReturnType<typeof createAuth>;
  feed: ReservationFeed;
  logger: Logger;
  /** A comment line this often keeps proxies from closing an idle stream (default 15 s). */
  heartbeatMs?: number;
}

/*
 * GET /v1/reservations/:reservationId/events: the reservation as Server-Sent Events. One
 * `reservation` event with the current view at once, another whenever its status, payment or hold
 * end changes, and the stream ends after a final status (paid, expired, cancelled,
 * payment_failed). The shopper's token goes in Authorization, so browsers read it with fetch
 * rather than EventSource (which cannot send the header).
 */
export function reservationEventsRouter(deps: ReservationEventsDeps): Router {
  const router = Router();
  const heartbeatMs = deps.heartbeatMs ?? 15_000;

  router.get('/v1/reservations/:reservationId/events', deps.auth.shopperOrAdmin, async (req, res) => {
    const first = await visibleReservation(deps.pool, res, req.params.reservationId);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      // nginx (deploy/) would otherwise buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 2000\n\n');

    let lastSent = '';
    let closed = false;
    let reading = false;
    let again = false;
    const send = (view: ReturnType<typeof toReservationView>) => {
      const data = JSON.stringify(view);
      if (data === lastSent) return;
      lastSent = data;
      res.write(`event: reservation\ndata: ${data}\n\n`);
      if (isFinal(view.status)) close();
    };
    // One read at a time; a change heard during a read is read again after it.
    const reread = async () => {
      if (closed) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          const row = await findReservation(deps.pool, first.id);
          if (row && !closed) send(toReservationView(row));
        } while (again && !closed);
      } catch (error) {
        requestLogger(deps.logger, req).warn({ err: error }, 'reservation stream could not re-read');
      } finally {
        reading = false;
      }
    };

    const unsubscribe = deps.feed.subscribe(first.id, () => void reread());
    const stopListening = deps.feed.onStop(() => close());
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
    function close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      unsubscribe();
      stopListening();
      res.end();
    }
    req.on('close', close);
    send(toReservationView(first));
    // A change that committed between the first read and the subscription is caught here.
    void reread();
  });

  return router;
}
