/** The API exactly as api/server.ts builds it, plus the test-only crash points of FAULT_CRASH_AT. */
import { runApi } from '../../../api/run-api';
import { crashPointsFromEnv } from '../crash-points';

runApi(process.env, { onCrashPoint: crashPointsFromEnv(process.env) }).catch((error: unknown) => {
  console.error('api failed to start', error);
  process.exit(1);
});
