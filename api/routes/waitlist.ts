import { Router, type Response } from 'express';
import type { Pool } from 'pg';
import { findWaitlistEntry, joinWaitlist, type WaitlistEntryRow } from '../../db/queries/waitlist';
import type { SaleRow } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import type { WaitlistEntryView, WaitlistStatus } from '../../domain/reservation';
import { principalOf, type createAuth } from '../auth';
import { requireSale } from '../require-sale';
import { Problem } from '../problem';
import type { SaleCache } from '../services/sale-cache';
import type { Logger } from 'pino';
import type { WaitlistFeed } from '../services/waitlist-feed';
import { followWaitlistEntry } from './waitlist-events';

export interface WaitlistRouteDeps {
  pool: Pool;
  sales: SaleCache;
  auth: ReturnType<typeof createAuth>;
  waitlistFeed: WaitlistFeed;
  logger: Logger;
}

/*
 * The waitlist of a sale created with `releasePolicy: 'waitlist'`: once no unit is available a
 * shopper joins it (FIFO); every released unit becomes a hold offered to the shopper at its head
 * (db/queries/release-reservation.ts), with its own workflow and hold timer. A sale with a waiting
 * room has none: its queue is the waitlist (a unit that comes back is available again, and the
 * admission step admits the next queued shopper for it), so nobody reaches a unit around the queue.
 */
export function waitlistRouter(deps: WaitlistRouteDeps): Router {
  const router = Router();

  router.post('/v1/sales/:saleId/waitlist', deps.auth.shopper, async (req, res) => {
    const shopperId = shopperOf(res);
    const sale = await waitlistSale(deps, req.params.saleId);
    if (Date.now() < sale.starts_at.getTime()) {
      throw new Problem(425, ErrorCode.SaleNotStarted, `the sale starts at ${sale.starts_at.toISOString()}`, {
        startsAt: sale.starts_at.toISOString(),
      });
    }
    const result = await joinWaitlist(deps.pool, sale.id, shopperId);
    switch (result.kind) {
      case 'joined':
        res.status(201).location(`/v1/sales/${sale.id}/waitlist/me`).json(toWaitlistView(result.entry));
        return;
      case 'already-joined':
        res.status(200).location(`/v1/sales/${sale.id}/waitlist/me`).json(toWaitlistView(result.entry));
        return;
      case 'already-reserved':
        throw new Problem(409, ErrorCode.AlreadyReserved, 'you already hold or own a unit of this sale', {
          reservationId: result.reservationId,
        });
      case 'units-available':
        throw new Problem(409, ErrorCode.UnitsAvailable, 'units are still available: claim one instead of waiting');
    }
  });

  router.get('/v1/sales/:saleId/waitlist/me', deps.auth.shopper, async (req, res) => {
    const shopperId = shopperOf(res);
    const sale = await waitlistSale(deps, req.params.saleId);
    const entry = await findWaitlistEntry(deps.pool, sale.id, shopperId);
    if (!entry) throw new Problem(404, ErrorCode.NotFound, 'you are not on this sale’s waitlist');
    res.json(toWaitlistView(entry));
  });

  /*
   * GET /v1/sales/:saleId/waitlist/me/events: the shopper's entry as Server-Sent Events (`entry`,
   * the view of GET …/waitlist/me), instead of polling it (api/routes/waitlist-events.ts): an
   * entry of the sale leaving `waiting` notifies `waitlist_moved` (migrations/0011), and one read
   * per sale gives every stream its entry, whose position may have moved up or which may now carry
   * the offer. The stream ends once the entry is no longer waiting; the page then follows the
   * offered reservation's own stream.
   */
  router.get('/v1/sales/:saleId/waitlist/me/events', deps.auth.shopper, async (req, res) => {
    const shopperId = shopperOf(res);
    const sale = await waitlistSale(deps, req.params.saleId);
    const first = await findWaitlistEntry(deps.pool, sale.id, shopperId);
    if (!first) throw new Problem(404, ErrorCode.NotFound, 'you are not on this sale’s waitlist');
    followWaitlistEntry(req, res, { waitlistFeed: deps.waitlistFeed, saleId: sale.id, shopperId, first, toView: toWaitlistView });
  });

  return router;
}

function shopperOf(res: Response): string {
  const principal = principalOf(res);
  if (principal.kind !== 'shopper') throw new Problem(401, ErrorCode.Unauthorized, 'the waitlist needs a shopper token');
  return principal.shopperId;
}

async function waitlistSale(deps: WaitlistRouteDeps, rawSaleId: unknown): Promise<SaleRow> {
  const sale = await requireSale(deps.sales, rawSaleId);
  if (sale.release_policy !== 'waitlist') {
    throw new Problem(409, ErrorCode.NoWaitlist, `this sale's releasePolicy is ${sale.release_policy}, not waitlist`, {
      releasePolicy: sale.release_policy,
    });
  }
  if (sale.waiting_room) {
    throw new Problem(
      409,
      ErrorCode.NoWaitlist,
      'this sale has a waiting room and its queue is the waitlist: join the queue; a unit that comes back goes to the next shopper it admits',
      { releasePolicy: sale.release_policy, waitingRoom: true },
    );
  }
  return sale;
}

const OFFER_STATUS: Record<NonNullable<WaitlistEntryRow['reservation_status']>, WaitlistStatus> = {
  held: 'offered',
  payment_pending: 'offered',
  paid: 'purchased',
  expired: 'offer-expired',
  cancelled: 'offer-cancelled',
  payment_failed: 'offer-payment-failed',
};

export function toWaitlistView(entry: WaitlistEntryRow): WaitlistEntryView {
  const status: WaitlistStatus =
    entry.state === 'waiting'
      ? 'waiting'
      : entry.state === 'passed_over'
        ? 'passed-over'
        : OFFER_STATUS[entry.reservation_status!];
  return {
    saleId: entry.sale_id,
    status,
    position: entry.position,
    joinedAt: entry.joined_at.toISOString(),
    ...(entry.reservation_id && { reservationId: entry.reservation_id }),
    ...(entry.expires_at && { expiresAt: entry.expires_at.toISOString() }),
  };
}
