import { Router } from 'express';
import type { Pool } from 'pg';
import { queueAudit } from '../../db/queries/queue-tickets';
import { ErrorCode } from '../../domain/errors';
import { principalOf, type createAuth } from '../auth';
import { requireRoomSale } from '../require-sale';
import { Problem } from '../problem';
import { joinQueueBody, parseBody } from '../schemas';
import type { SaleCache } from '../services/sale-cache';
import type { WaitingRoom } from '../services/waiting-room';
import type { QueuePositionView } from '../../domain/waiting-room';
import { isDependencyUnavailable } from '../dependency-errors';

/** When to come back after an answer given from memory because Postgres could not be asked. */
const BUSY_POLL_SECONDS = 2;

/** What queue/me sends besides its body: never cached, and `Retry-After` = `nextPollSeconds` while waiting. */
export function queueMeHeaders(view: QueuePositionView): Record<string, string> {
  return view.nextPollSeconds === undefined
    ? { 'cache-control': 'no-store' }
    : { 'cache-control': 'no-store', 'retry-after': String(view.nextPollSeconds) };
}

export interface WaitingRoomRouteDeps {
  pool: Pool;
  sales: SaleCache;
  auth: ReturnType<typeof createAuth>;
  waitingRoom: WaitingRoom;
}

/** The shopper's routes of a sale's waiting room (docs/DESIGN.md, "Waiting room"), and the admin's audit. */
export function waitingRoomRouter(deps: WaitingRoomRouteDeps): Router {
  const router = Router();

  function shopperId(res: Parameters<typeof principalOf>[0]): string {
    const principal = principalOf(res);
    if (principal.kind !== 'shopper') throw new Problem(401, ErrorCode.Unauthorized, 'this route needs a shopper token');
    return principal.shopperId;
  }

  router.get('/v1/sales/:saleId/challenge', deps.auth.shopper, async (req, res) => {
    const sale = await requireRoomSale(deps.sales, req.params.saleId);
    res.set('cache-control', 'no-store').json(deps.waitingRoom.issueChallenge(sale, shopperId(res)));
  });

  router.post('/v1/sales/:saleId/queue', deps.auth.shopper, async (req, res) => {
    const sale = await requireRoomSale(deps.sales, req.params.saleId);
    const body = parseBody(joinQueueBody, req.body);
    const joined = await deps.waitingRoom.joinQueue(sale, shopperId(res), body.challenge, body.nonce);
    const { created, ...view } = joined;
    res
      .status(created ? 201 : 200)
      .location(`/v1/sales/${sale.id}/queue/me`)
      .json(view);
  });

  router.get('/v1/sales/:saleId/queue/me', deps.auth.shopper, async (req, res) => {
    const sale = await requireRoomSale(deps.sales, req.params.saleId);
    const shopper = shopperId(res);
    let view: QueuePositionView | undefined;
    try {
      view = await deps.waitingRoom.position(sale.id, shopper);
    } catch (error) {
      // Past the pool's capacity a shopper this process knows gets its last known place and when
      // to come back, not a 503 (docs/DESIGN.md, "Waiting room").
      const known = isDependencyUnavailable(error) ? deps.waitingRoom.lastKnownPosition(sale.id, shopper) : undefined;
      if (!known) throw error;
      view = { ...known, nextPollSeconds: Math.max(known.nextPollSeconds ?? 0, BUSY_POLL_SECONDS) };
    }
    if (!view) throw new Problem(404, ErrorCode.NotFound, 'you have not joined this sale’s queue');
    res.set(queueMeHeaders(view)).json(view);
  });

  // The shopper leaves the room (issue 21): an admission not spent yet goes back to the room now.
  // Idempotent: leaving again answers the same view.
  router.delete('/v1/sales/:saleId/queue/me', deps.auth.shopper, async (req, res) => {
    const sale = await requireRoomSale(deps.sales, req.params.saleId);
    const view = await deps.waitingRoom.leave(sale.id, shopperId(res));
    if (!view) throw new Problem(404, ErrorCode.NotFound, 'you have not joined this sale’s queue');
    res.set('cache-control', 'no-store').json(view);
  });

  router.get('/v1/admin/sales/:saleId/queue/audit', deps.auth.admin, async (req, res) => {
    const sale = await requireRoomSale(deps.sales, req.params.saleId);
    const audit = (await queueAudit(deps.pool, sale.id))!;
    res.json({
      saleId: sale.id,
      startsAt: sale.starts_at.toISOString(),
      shuffle: {
        seed: audit.shuffleSeed,
        shuffledAt: audit.shuffledAt?.toISOString() ?? null,
        algorithm:
          'Fisher–Yates over the pre-queue ticket ids sorted as strings; draw k = first 6 bytes of sha256("<seed>:<k>") as a big-endian integer, rejection-sampled; see docs/DESIGN.md',
        members: audit.prequeue.map((t) => t.id).sort(),
        order: audit.prequeue.map((t) => t.id),
      },
      serving: audit.serving,
      assigned: audit.assigned,
      tickets: audit.tickets,
    });
  });

  return router;
}
