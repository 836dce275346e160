import { Router } from 'express';
import type { Logger } from 'pino';
import { startEventStream } from '../event-stream';
import { requireSale } from '../require-sale';
import type { ChangeFeed } from '../services/change-feed';
import type { SaleCache } from '../services/sale-cache';
import type { SalePoint } from '../../domain/sale-feed';
import type { SaleFeed } from '../services/sale-feed';

export interface SaleEventsDeps {
  sales: SaleCache;
  saleFeed: SaleFeed;
  /** Ends the open streams when the server shuts down. */
  changeFeed: ChangeFeed;
  logger: Logger;
}

/** What anyone may see of a sale: the same figures as GET /v1/sales/:saleId (no time, so an unchanged sale sends nothing). */
export function publicSaleEvent(saleId: string, point: SalePoint) {
  return {
    id: saleId,
    status: point.status,
    available: point.units.available ?? 0,
    held: point.units.held ?? 0,
    sold: point.units.sold ?? 0,
    units: point.units,
  };
}

/*
 * GET /v1/sales/:saleId/events: the sale's counts and status as Server-Sent Events (`sale`
 * events, at most one a second and only when something changed). No authentication: it shows
 * what GET /v1/sales/:saleId shows to anyone. Every stream of a sale in this process shares one
 * poller (api/services/sale-feed.ts).
 */
export function saleEventsRouter(deps: SaleEventsDeps): Router {
  const router = Router();

  router.get('/v1/sales/:saleId/events', async (req, res) => {
    const sale = await requireSale(deps.sales, req.params.saleId);
    const stream = startEventStream(req, res, deps.changeFeed);
    stream.onClose(deps.saleFeed.subscribe(sale, (point) => stream.send('sale', publicSaleEvent(sale.id, point))));
  });

  return router;
}
