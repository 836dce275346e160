import { Router } from 'express';
import type { Pool } from 'pg';
import { principalOf, type createAuth } from '../auth';
import { ErrorCode } from '../../domain/errors';
import { Problem } from '../problem';
import { exportShopper } from '../services/shopper-export';

export interface MyDataRouteDeps {
  pool: Pool;
  auth: ReturnType<typeof createAuth>;
  /** NOTIFY_EMAIL_DOMAIN: the export names the address the worker mails. */
  notifyEmailDomain: string;
}

/** `GET /v1/me/export` (shopper): everything stored under the token's subject, as JSON. */
export function myDataRouter(deps: MyDataRouteDeps): Router {
  const router = Router();

  router.get('/v1/me/export', deps.auth.shopper, async (_req, res) => {
    const principal = principalOf(res);
    if (principal.kind !== 'shopper') throw new Problem(401, ErrorCode.Unauthorized, 'the export needs a shopper token');
    const data = await exportShopper(deps, principal.shopperId);
    res.set('Cache-Control', 'no-store').json(data);
  });

  return router;
}
