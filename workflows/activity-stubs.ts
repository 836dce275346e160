import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { OUTCOME_NOTICE_MAX_ATTEMPTS, PAYMENT_DEADLINE_SECONDS } from '../domain/reservation-workflow-contract';

/*
 * The charge: one attempt waits 5 s for the provider (`tok_slow` answers later, so its charge
 * completes on a retry that replays the idempotency key); retries stop at the payment deadline,
 * after which the workflow asks the provider what happened instead of charging blind.
 */
export const charging = proxyActivities<Activities>({
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: `${PAYMENT_DEADLINE_SECONDS} seconds`,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

/* Asking the provider about a charge that timed out: two minutes of tries, then give up. */
export const reconciling = proxyActivities<Activities>({
  startToCloseTimeout: '5 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

/*
 * Refunds: a refusal for good is not retried (REFUND_REFUSED); anything else is retried, backing
 * off to once a minute, for at most a day. Either way a refund that cannot be made ends, and is
 * recorded for support (workflows/compensation.ts).
 */
export const refunding = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '24 hours',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/*
 * The short database steps the reservation's correctness rests on (mark pending, extend, release,
 * complete the sale, record a failed refund), as local activities: they run in the worker
 * that runs the workflow task and are recorded as one marker each, instead of a scheduled,
 * started and completed activity plus a workflow task. They must finish, so no attempt cap; they
 * back off to one attempt a minute while Postgres is down (a local activity
 * retried past a minute waits on a timer between attempts). Every one is idempotent, which a
 * local activity needs: it runs again if its workflow task fails before it is recorded.
 */
export const bookkeeping = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/*
 * The outcome notice the release or the sale could not send along (a local activity, as above).
 * Unlike the database steps it may end unsent: a 5xx refusal is not retried (the activity fails
 * with NOTICE_GIVEN_UP), and a mail server that answers 4xx or not at all gets
 * OUTCOME_NOTICE_MAX_ATTEMPTS tries, about 14 minutes, so the workflow's history stops growing.
 */
export const notifying = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: OUTCOME_NOTICE_MAX_ATTEMPTS,
  },
});
