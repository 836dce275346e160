import { Router } from 'express';
import type { Logger } from 'pino';
import { ErrorCode } from '../../domain/errors';
import { nextPollSeconds, type QueuePositionView } from '../../domain/waiting-room';
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
  // The stream pushes what decides the shopper’s turn at once, so the poll hint does not apply.
  return { ...view, ahead, estimatedWaitSeconds: Math.ceil((ahead + 1) / admitPerSecond), nextPollSeconds: undefined };
}

/**
 * Whether a stream that showed `shown` at `shownAtMs` sends `next` now: at once when the status or
 * the position changes (admitted, sold out, the place drawn), and a waiting shopper's progress at
 * most every `nextPollSeconds` of the new view, the spacing a polling client keeps (half the
 * estimated wait, 1–30 s). So a crowd of N streams costs about the writes of N pollers a second,
 * not N per admission step, and what decides a shopper's fate still reaches them at once.
 */
export function streamDue(shown: QueuePositionView, shownAtMs: number, next: QueuePositionView, nowMs: number): boolean {
  if (next.status !== 'waiting' || shown.status !== 'waiting' || shown.position !== next.position) return true;
  return nowMs - shownAtMs >= nextPollSeconds(next.estimatedWaitSeconds, 0, next.ticketId) * 1000;
}

/*
 * GET /v1/sales/:saleId/queue/me/events: the shopper's place in the waiting room as Server-Sent
 * Events (`position`, the view of GET …/queue/me), instead of polling queue/me. A waiting room
 * notifies `queue_moved` with its counters each time its admission step moves them; a stream
 * whose shopper is ordered and not yet reached works out the new view from the counters alone,
 * so a step costs one notification per API process, not one read per waiting shopper. The
 * shopper's own row is read only while not ordered yet and once reached. A waiting shopper's
 * progress is sent no more often than a poller would ask (`streamDue`). The stream ends when the
 * shopper is admitted (or the admission ran out), or with `sold-out` once nothing can come back.
 */
export function queueEventsRouter(deps: QueueEventsDeps): Router {
  const router = Router();
  // A notification reaches every stream of its sale in one loop, with the same payload: parsed once.
  let last: { payload: string; moved: QueueMoved } | undefined;
  const parseMoved = (payload: string): QueueMoved => {
    if (last?.payload !== payload) last = { payload, moved: JSON.parse(payload) as QueueMoved };
    return last.moved;
  };

  router.get('/v1/sales/:saleId/queue/me/events', deps.auth.shopper, async (req, res) => {
    const principal = principalOf(res);
    if (principal.kind !== 'shopper') throw new Problem(401, ErrorCode.Unauthorized, 'this route needs a shopper token');
    const sale = await requireRoomSale(deps.sales, req.params.saleId);
    const admitPerSecond = sale.waiting_room.admitPerSecond;
    let view = await deps.waitingRoom.position(sale.id, principal.shopperId);
    if (!view) throw new Problem(404, ErrorCode.NotFound, 'you have not joined this sale’s queue');

    const stream = startEventStream(req, res, deps.feed);
    let shown: QueuePositionView | undefined;
    let shownAtMs = 0;
    const send = (next: QueuePositionView) => {
      view = next;
      const now = Date.now();
      if (shown && !streamDue(shown, shownAtMs, next, now)) return;
      shown = next;
      shownAtMs = now;
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
      const moved = payload === undefined ? undefined : parseMoved(payload);
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
