import { createAdmissionActivities } from './admission-activities';
import { createCompensationActivities } from './compensation';
import type { ActivityDeps } from './deps';
import { createPaymentPhaseActivities } from './payment-phase';
import { createMessageActivities } from './reservation-messages';

export type { ActivityDeps } from './deps';

/*
 * Every activity the worker registers, one module per workflow role that calls them:
 * reservation-messages (the update handlers), payment-phase, compensation, admission.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createMessageActivities(deps),
    ...createPaymentPhaseActivities(deps),
    ...createCompensationActivities(deps),
    ...createAdmissionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
