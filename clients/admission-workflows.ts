import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { SaleIdAttribute } from '../domain/reservation-workflow-contract';
import { admissionWorkflowId, type AdmissionWorkflowInput } from '../domain/waiting-room';
import type { admissionWorkflow } from '../workflows';

/**
 * Starts `admission-<saleId>`. Idempotent: a workflow that exists, running or closed, counts as
 * started (a finished sale's admission never runs again).
 */
export async function startAdmissionWorkflow(client: Client, taskQueue: string, input: AdmissionWorkflowInput): Promise<void> {
  try {
    await client.workflow.start<typeof admissionWorkflow>('admissionWorkflow', {
      workflowId: admissionWorkflowId(input.saleId),
      taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      typedSearchAttributes: [{ key: SaleIdAttribute, value: input.saleId }],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
