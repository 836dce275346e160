import { createReservationActivities, type ActivityDeps } from './reservation-activities';

export type { ActivityDeps } from './reservation-activities';

export function createActivities(deps: ActivityDeps) {
  return { ...createReservationActivities(deps) };
}

export type Activities = ReturnType<typeof createActivities>;
