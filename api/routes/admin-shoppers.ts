import { Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { ShopperWorkflows } from '../../clients/shopper-workflows';
import { ErrorCode } from '../../domain/errors';
import { PSEUDONYM_PREFIX } from '../../domain/shopper-data';
import type { createAuth } from '../auth';
import { Problem } from '../problem';
import { eraseShopper } from '../services/erase-shopper';

export interface AdminShopperRouteDeps {
  pool: Pool;
  shopperWorkflows: ShopperWorkflows;
  erasureSecret: string;
  auth: ReturnType<typeof createAuth>;
  logger: Logger;
}

/** The shopper ids a token may carry (api/auth.ts): 1-128 characters, no control characters or lone surrogates. */
const SHOPPER_ID = /^[^\p{Cc}\p{Cs}]+$/u;
const SHOPPER_ID_MAX_LENGTH = 128;

/** `POST /v1/admin/shoppers/:shopperId/erase` (admin): api/services/erase-shopper.ts. */
export function adminShoppersRouter(deps: AdminShopperRouteDeps): Router {
  const router = Router();

  router.post('/v1/admin/shoppers/:shopperId/erase', deps.auth.admin, async (req, res) => {
    const shopperId = req.params.shopperId;
    if (
      typeof shopperId !== 'string' ||
      !SHOPPER_ID.test(shopperId) ||
      shopperId.length > SHOPPER_ID_MAX_LENGTH ||
      shopperId.startsWith(PSEUDONYM_PREFIX)
    )
      throw new Problem(
        400,
        ErrorCode.InvalidRequest,
        `shopperId: 1 to 128 characters without control characters, not starting with ${PSEUDONYM_PREFIX}`,
      );
    res.set('Cache-Control', 'no-store').json(await eraseShopper(deps, shopperId));
  });

  return router;
}
