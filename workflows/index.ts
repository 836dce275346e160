export { reservationWorkflow } from './reservation-workflow';
export { lateChargeWorkflow } from './late-charge-workflow';
export { admissionWorkflow } from './admission-workflow';
export { retentionPurgeWorkflow } from './retention-purge-workflow';
