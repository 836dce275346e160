import type { Pool } from 'pg';
import { createAdmissionActivities } from './admission-activities';
import type { CrashPointHook } from '../ops/crash-points';
import { createCombinedSteps } from './combined-steps';
import type { Notifier } from './notifier';
import { createPaymentActivities } from './payment-activities';
import type { PaymentGateways } from './payment-gateway';
import { createReservationActivities } from './reservation-activities';

export interface ActivityDeps {
  pool: Pool;
  gateways: PaymentGateways;
  notifier: Notifier;
  /** Test harness only (test/helpers/entries/). */
  onCrashPoint?: CrashPointHook;
}

export function createActivities(deps: ActivityDeps) {
  const reservation = createReservationActivities(deps);
  const payment = createPaymentActivities(deps);
  return { ...reservation, ...payment, ...createCombinedSteps(payment, reservation), ...createAdmissionActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
