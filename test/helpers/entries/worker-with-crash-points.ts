/** The worker exactly as worker/main.ts builds it, plus the test-only crash points of FAULT_CRASH_AT. */
import { runWorker } from '../../../worker/run-worker';
import { crashPointsFromEnv } from '../crash-points';

runWorker(process.env, { onCrashPoint: crashPointsFromEnv(process.env) }).catch((error: unknown) => {
  console.error('worker failed', error);
  process.exit(1);
});
