import { Router } from 'express';
import type { Logger } from 'pino';
import { ErrorCode } from '../../domain/errors';
import type { QueuePositionView } from '../../domain/waiting-room';
import { principalOf, type createAuth } from '../auth';
import { coalesced, startEventStream } from '../event-stream';
import { requireRoomSale } from '../require-sale';
import { Problem } from '../problem';
import { requestLogger } from '../request-log';
import { CHANGE_CHANNELS, type ChangeFeed, type QueueMoved } from '../services/change-feed';
import type { SaleCache } from '../services/sale-cache';
import type { WaitingRoom } from '../services/waiting-room';

export interface QueueEventsDeps {
  sales: SaleCache;
  auth: ReturnType<typeof createAuth>;
  waitingRoom: WaitingRoom;
  feed: ChangeFeed;
  logger: Logger;
}

/**
 * The view of a shopper already ordered and still waiting once the room serves up to `serving`:
 * the arithmetic of `GET /v1/sales/:saleId/queue/me` (api/services/waiting-room.ts) without a read.
 * Undefined when the shopper's own row must be read: not ordered yet, or reached (admitted).
 */
export function movedView(view: QueuePositionView, moved: QueueMoved, admitPerSecond: number): QueuePositionView | undefined {
  if (moved.soldOut)
    return { ticketId: view.ticketId, position: view.position, status: 'sold-out', ahead: null, estimatedWaitSeconds: null };
  const { serving } = moved;
  if (view.status !== 'waiting' || view.position === null || view.position <= serving) return undefined;
  const ahead = Math.max(0, view.position - serving - 1);
  // The stream pushes every move, so the poll hint of the first view does not apply.
  return { ...view, ahead, estimatedWaitSeconds: Math.ceil((ahead + 1) / admitPerSecond), nextPollSeconds: undefined };
}

/*
 * GET /v1/sales/:saleId/queue/me/events: the shopper's place in the waiting room as Server-Sent
 * Events (`position`, the view of GET …/queue/me), instead of polling queue/me. A waiting room
 * notifies `queue_moved` with its counters each time its admission step moves them; a stream
 * whose shopper is ordered and not yet reached works out the new view from the counters alone,
 * so a step costs one notification per API process, not one read per waiting shopper. The
 * shopper's own row is read only while not ordered yet and once reached. The stream ends when the
 * shopper is admitted (or the admission ran out), or with `sold-out` once nothing can come back.
 */
export function queueEventsRouter(deps: QueueEventsDeps): Router {
  const router = Router();

  router.get('/v1/sales/:saleId/queue/me/events', deps.auth.shopper, async (req, res) => {
    const principal = principalOf(res);
    if (principal.kind !== 'shopper') throw new Problem(401, ErrorCode.Unauthorized, 'this route needs a shopper token');
    const sale = await requireRoomSale(deps.sales, req.params.saleId);
    const admitPerSecond = sale.waiting_room.admitPerSecond;
    let view = await deps.waitingRoom.position(sale.id, principal.shopperId);
    if (!view) throw new Problem(404, ErrorCode.NotFound, 'you have not joined this sale’s queue');

    const stream = startEventStream(req, res, deps.feed);
    const send = (next: QueuePositionView) => {
      view = next;
      stream.send('position', next);
      if (next.status !== 'waiting') stream.close();
    };
    const reread = coalesced(
      async () => {
        if (stream.closed) return;
        const next = await deps.waitingRoom.position(sale.id, principal.shopperId);
        if (next) send(next);
      },
      (error) => requestLogger(deps.logger, req).warn({ err: error }, 'queue stream could not re-read'),
    );
    const unsubscribe = deps.feed.subscribe(CHANGE_CHANNELS.queue, sale.id, (payload) => {
      if (stream.closed || !view) return;
      const moved = payload === undefined ? undefined : (JSON.parse(payload) as QueueMoved);
      const next = moved && movedView(view, moved, admitPerSecond);
      if (next) send(next);
      else reread();
    });
    stream.onClose(unsubscribe);
    send(view);
    reread();
  });

  return router;
}
