import { createAdmissionActivities } from './admission-activities';
import { createCompensationActivities } from './compensation';
import type { ActivityDeps } from './deps';
import { createPaymentPhaseActivities } from './payment-phase';
import { createMessageActivities } from './reservation-messages';
import { createRetentionActivities } from './retention-purge';

export type { ActivityDeps } from './deps';

/*
 * Every activity the worker registers, one module per workflow role that calls them:
 * reservation-messages (the update handlers), payment-phase, compensation, admission, retention.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createMessageActivities(deps),
    ...createPaymentPhaseActivities(deps),
    ...createCompensationActivities(deps),
    ...createAdmissionActivities(deps),
    ...createRetentionActivities({ pool: deps.pool, onPurged: deps.onRowsPurged }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
