import type { Pool } from 'pg';
import { createCombinedSteps } from './combined-steps';
import type { Notifier } from './notifier';
import { createPaymentActivities } from './payment-activities';
import type { PaymentGateways } from './payment-gateway';
import { createReservationActivities } from './reservation-activities';

export interface ActivityDeps {
  pool: Pool;
  gateways: PaymentGateways;
  notifier: Notifier;
}

export function createActivities(deps: ActivityDeps) {
  const reservation = createReservationActivities(deps);
  const payment = createPaymentActivities(deps);
  return { ...reservation, ...payment, ...createCombinedSteps(payment, reservation) };
}

export type Activities = ReturnType<typeof createActivities>;
