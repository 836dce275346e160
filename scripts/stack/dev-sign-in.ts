import { Router } from 'express';
import { z } from 'zod';
import { parseBody } from '../../api/schemas';
import { mintShopperToken } from '../shopper-token';

/** What a development shopper may be called: it becomes the token's `sub` and their e-mail's local part. */
const signInBody = z.strictObject({
  shopperId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1-64 letters, digits, dots, dashes or underscores'),
});

/**
 * POST /dev/sign-in `{ shopperId }` → `{ shopperId, token }`: a shopper JWT exactly as
 * `npm run token` mints it, for the checkout page's development sign-in. Mounted only by the
 * development launcher's API entry (scripts/dev-api.ts) and the browser tests' entry
 * (test/helpers/entries/api-with-dev-sign-in.ts): the production entry, api/server.ts, never has
 * it, so a production API answers 404 here. Anyone who can reach it can be any shopper.
 */
export function devSignInRouter(options: {
  jwtSecret: string;
  tokenTtl?: string;
  /** JWT_ISSUER and JWT_AUDIENCE of the API it is mounted in (default SHOPPER_TOKEN_SCOPE). */
  scope?: { issuer: string; audience: string };
}): Router {
  const router = Router();
  router.post('/dev/sign-in', async (req, res) => {
    const { shopperId } = parseBody(signInBody, req.body);
    const token = await mintShopperToken(options.jwtSecret, shopperId, options.tokenTtl ?? '12h', options.scope);
    res.setHeader('Cache-Control', 'no-store');
    res.status(201).json({ shopperId, token });
  });
  return router;
}
