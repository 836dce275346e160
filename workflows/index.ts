export { lateChargeWorkflow } from './late-charge-workflow';
export { reservationWorkflow } from './reservation-workflow';
export { admissionWorkflow } from './admission-workflow';
export { leanReservationWorkflow } from './lean-reservation-workflow';
