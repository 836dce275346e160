import { continueAsNew, log, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { AdmissionTickResult, AdmissionWorkflowInput } from '../domain/waiting-room';

/*
 * One short database transaction per step, run as a local activity: no activity task round trip
 * through the server, one marker event in the history. A step that still fails after its
 * attempts is logged and the next tick tries again: the queue only waits, nothing is lost (every
 * ticket and the counter live in Postgres).
 */
const admission = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 5 },
});

export const ADMISSION_TICK_MS = 1_000;
/** Ticks per run before continueAsNew: a tick writes about six history events, so a run stays near 1,200. */
export const ADMISSION_TICKS_PER_RUN = 200;
/** After a pause of the worker, at most this much missed time is admitted at once. */
const MAX_CATCH_UP_MS = 5_000;

async function step<T>(what: string, saleId: string, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    log.warn('admission step failed; the next tick retries', { saleId, what, error: String(error) });
    return undefined;
  }
}

/**
 * `admission-<saleId>`: waits for the start, shuffles the pre-queue once, then every second
 * admits `admitPerSecond` more shoppers as long as units can still be claimed, pausing while none
 * can (and resuming by itself when units come back). Ends once every unit is sold.
 */
export async function admissionWorkflow(input: AdmissionWorkflowInput): Promise<{ serving: number }> {
  const { saleId, admitPerSecond } = input;
  const carry = { ...(input.carry ?? { shuffled: false, lastTickMs: 0, credit: 0, runs: 0 }) };
  if (!carry.shuffled) {
    const untilStart = input.startsAtMs - Date.now();
    if (untilStart > 0) await sleep(untilStart);
    // The database clock decides (it may trail this one a little); waiting on it is bounded like the ticks.
    for (let tries = 1; !(await step('shuffle', saleId, () => admission.shufflePreQueue({ saleId })))?.shuffled; tries++) {
      if (tries >= ADMISSION_TICKS_PER_RUN) return continueAsNew<typeof admissionWorkflow>(input);
      await sleep(ADMISSION_TICK_MS);
    }
    carry.shuffled = true;
    carry.lastTickMs = Date.now();
  }
  for (let tick = 0; tick < ADMISSION_TICKS_PER_RUN; tick++) {
    await sleep(ADMISSION_TICK_MS);
    const now = Date.now();
    const elapsed = Math.min(MAX_CATCH_UP_MS, Math.max(0, now - carry.lastTickMs));
    carry.lastTickMs = now;
    const allowance = carry.credit + (admitPerSecond * elapsed) / 1_000;
    const budget = Math.floor(allowance);
    // The tick's workflow time keys the step: it only grows, across continueAsNew too, and a
    // retried attempt carries the same, so a step that committed but lost its answer admits nobody
    // twice (db/queries/admission.ts). The history is the same as without the key.
    const result: AdmissionTickResult | undefined = await step('admit', saleId, () =>
      admission.admitStep({ saleId, budget, stepKey: now }),
    );
    // Unused allowance is not saved up: a room that was paused resumes at its rate, not in a burst.
    carry.credit = result?.admitted === budget ? allowance - budget : 0;
    if (result?.finished) return { serving: result.serving };
  }
  return continueAsNew<typeof admissionWorkflow>({ ...input, carry: { ...carry, runs: carry.runs + 1 } });
}
