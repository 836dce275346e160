/* What the floor workflow (bench/floor/workflow.ts) and its driver (bench/floor.ts) share. */
import { defineUpdate } from '@temporalio/workflow';

export const FLOOR_TASK_QUEUE = 'bench-floor';
export const FLOOR_WORKFLOW_TYPE = 'floorWorkflow';
/** The payment, as the reservation workflow takes it: an update that answers once accepted. */
export const floorPaymentUpdate = defineUpdate<string, [string]>('submitPayment');
