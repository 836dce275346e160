/**
 * The API exactly as api/server.ts builds it, plus `PUT /test/busy-loop` `{ "blockMs": n }`: from
 * then on every turn of its event loop is held n ms (0 lets it go), as a process that cannot keep
 * up with its crowd is. The crowd-shedding test (test/integration/checkout-capacity.test.ts) uses it.
 */
import { Router } from 'express';
import { runApi } from '../../../api/run-api';

let blockMs = 0;
let spinning = false;

/** Once per turn of the loop (the check phase), while blockMs > 0. */
function spin(): void {
  if (blockMs <= 0) {
    spinning = false;
    return;
  }
  const until = performance.now() + blockMs;
  while (performance.now() < until);
  setImmediate(spin);
}

const busyLoop = Router();
busyLoop.put('/test/busy-loop', (req, res) => {
  blockMs = Number((req.body as { blockMs?: unknown } | undefined)?.blockMs ?? 0);
  if (blockMs > 0 && !spinning) {
    spinning = true;
    setImmediate(spin);
  }
  res.status(204).end();
});

runApi(process.env, { extraRoutes: [busyLoop] }).catch((error: unknown) => {
  console.error('api failed to start', error);
  process.exit(1);
});
