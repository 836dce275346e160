/** The API exactly as api/server.ts builds it, plus the development sign-in the browser tests use. */
import { runApi } from '../../../api/run-api';
import { devSignInRouter } from '../../../scripts/stack/dev-sign-in';

runApi(process.env, { extraRoutes: [devSignInRouter({ jwtSecret: process.env.JWT_SECRET ?? '' })] }).catch((error: unknown) => {
  console.error('api failed to start', error);
  process.exit(1);
});
