/*
 * The API as `npm run dev` starts it: api/server.ts plus the development sign-in
 * (POST /dev/sign-in, scripts/stack/dev-sign-in.ts) the checkout page uses to mint a shopper token.
 */
import { runApi } from '../api/run-api';
import { parseEnv, shopperTokenEnv } from '../config/common';
import { devSignInRouter } from './stack/dev-sign-in';

const jwtSecret = process.env.JWT_SECRET;
if (!jwtSecret) {
  console.error('dev-api: JWT_SECRET is not set (scripts/dev.ts hands the development one over)');
  process.exit(1);
}
const { JWT_ISSUER: issuer, JWT_AUDIENCE: audience } = parseEnv(shopperTokenEnv, process.env);
runApi(process.env, { extraRoutes: [devSignInRouter({ jwtSecret, scope: { issuer, audience } })] }).catch((error: unknown) => {
  console.error('api failed to start', error);
  process.exit(1);
});
