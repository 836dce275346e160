import { Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { toReservationView, type ReservationRow } from '../../db/rows';
import { isFinal } from '../../domain/reservation';
import type { createAuth } from '../auth';
import { followView } from '../event-stream';
import { requestLogger } from '../request-log';
import { CHANGE_CHANNELS, type ChangeFeed } from '../services/change-feed';
import type { BatchedRead } from '../services/batched-reads';
import { visibleReservation } from '../services/visible-reservation';

export interface ReservationEventsDeps {
  pool: Pool;
  auth: ReturnType<typeof createAuth>;
  feed: ChangeFeed;
  /** The streams' re-reads, batched (api/services/batched-reads.ts): a reconnect's resync is a few statements. */
  readReservation: BatchedRead<ReservationRow>;
  logger: Logger;
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

  router.get('/v1/reservations/:reservationId/events', deps.auth.shopperOrAdmin, async (req, res) => {
    const first = await visibleReservation(deps.pool, res, req.params.reservationId);
    followView(req, res, {
      feed: deps.feed,
      channel: CHANGE_CHANNELS.reservation,
      key: first.id,
      event: 'reservation',
      first: toReservationView(first),
      read: async () => {
        const row = await deps.readReservation(first.id);
        return row && toReservationView(row);
      },
      isFinal: (view) => isFinal(view.status),
      onReadError: (error) => requestLogger(deps.logger, req).warn({ err: error }, 'reservation stream could not re-read'),
    });
  });

  return router;
}
