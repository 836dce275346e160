/** The API exactly as api/server.ts builds it, plus the development sign-in the browser tests use. */
import { runApi } from '../../../api/run-api';
import { parseEnv, shopperTokenEnv } from '../../../config/common';
import { devSignInRouter } from '../../../scripts/stack/dev-sign-in';

const { JWT_ISSUER: issuer, JWT_AUDIENCE: audience } = parseEnv(shopperTokenEnv, process.env);
const signIn = devSignInRouter({ jwtSecret: process.env.JWT_SECRET ?? '', scope: { issuer, audience } });
runApi(process.env, { extraRoutes: [signIn] }).catch((error: unknown) => {
  console.error('api failed to start', error);
  process.exit(1);
});
