import { randomUUID } from 'node:crypto';
import { Router } from 'express';
import type { Pool } from 'pg';
import { countUnits } from '../../db/queries/count-units';
import { createSale } from '../../db/queries/create-sale';
import { countWaiting } from '../../db/queries/waitlist';
import { toSaleView } from '../../db/rows';
import type { createAuth } from '../auth';
import { requireSale } from '../require-sale';
import { createSaleBody, parseBody } from '../schemas';
import type { SaleCache } from '../services/sale-cache';

export interface SalesRouteDeps {
  pool: Pool;
  sales: SaleCache;
  auth: ReturnType<typeof createAuth>;
  maxStripes: number;
}

export function salesRouter(deps: SalesRouteDeps): Router {
  const router = Router();

  router.post('/v1/sales', deps.auth.admin, async (req, res) => {
    const body = parseBody(createSaleBody, req.body);
    const sale = await createSale(deps.pool, {
      id: randomUUID(),
      sku: body.sku,
      name: body.name,
      units: body.units,
      priceCents: body.priceCents,
      currency: body.currency,
      startsAt: body.startsAt ? new Date(body.startsAt) : new Date(),
      holdSeconds: body.holdSeconds,
      stripes: Math.min(deps.maxStripes, body.units),
      ...(body.waitingRoom && { waitingRoom: body.waitingRoom }),
      releasePolicy: body.releasePolicy,
    });
    const counts = { available: sale.units, held: 0, sold: 0, withdrawn: 0 };
    res
      .status(201)
      .location(`/v1/sales/${sale.id}`)
      .json(toSaleView(sale, counts, new Date()));
  });

  router.get('/v1/sales/:saleId', async (req, res) => {
    const sale = await requireSale(deps.sales, req.params.saleId);
    const [counts, waitlisted] = await Promise.all([
      countUnits(deps.pool, sale.id),
      sale.release_policy === 'waitlist' ? countWaiting(deps.pool, sale.id) : undefined,
    ]);
    res.json(toSaleView(sale, counts, new Date(), waitlisted));
  });

  return router;
}
