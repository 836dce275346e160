import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { checkSaleInvariants } from '../../invariants/check-sale-invariants';
import type { PaymentGateway } from '../../payments/gateway';
import type { createAuth } from '../auth';
import { requireSale } from '../require-sale';
import type { SaleCache } from '../services/sale-cache';

export interface AdminRouteDeps {
  pool: Pool;
  temporal: Client;
  gateways: PaymentGateway[];
  sales: SaleCache;
  auth: ReturnType<typeof createAuth>;
}

/** Extension of the contract: the invariant checker (also `npm run check`) as an admin route. */
export function adminRouter(deps: AdminRouteDeps): Router {
  const router = Router();

  router.get('/v1/admin/sales/:saleId/invariants', deps.auth.admin, async (req, res) => {
    const { id: saleId } = await requireSale(deps.sales, req.params.saleId);
    const report = await checkSaleInvariants({ pool: deps.pool, temporal: deps.temporal, gateways: deps.gateways }, saleId);
    res.json(report);
  });

  return router;
}
