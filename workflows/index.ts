export { reservationWorkflow } from './reservation-workflow';
