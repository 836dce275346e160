import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { reservationWorkflowId } from '../domain/reservation-workflow-contract';

export interface WorkflowCensus {
  /** Workflow executions of the sale by status, from Temporal's visibility store. */
  byStatus: Record<string, number>;
  /** Reservations with no execution at all, and final reservations whose workflow still runs. */
  withoutWorkflow: string[];
  stillRunning: string[];
}

/**
 * Beyond the checker (which asks Temporal only about open reservations): after the run every
 * reservation should have had exactly one workflow, and every final one should have closed.
 */
export async function workflowCensus(temporal: Client, pool: Pool, saleId: string): Promise<WorkflowCensus> {
  const byStatus: Record<string, number> = {};
  const seen = new Map<string, string>();
  for await (const execution of temporal.workflow.list({ query: `SaleId = "${saleId}"` })) {
    byStatus[execution.status.name] = (byStatus[execution.status.name] ?? 0) + 1;
    seen.set(execution.workflowId, execution.status.name);
  }
  const { rows } = await pool.query<{ id: string; status: string }>(
    `select id, status from reservations where sale_id = $1::uuid`,
    [saleId],
  );
  const final = new Set(['paid', 'expired', 'cancelled', 'payment_failed']);
  return {
    byStatus,
    withoutWorkflow: rows.filter((r) => !seen.has(reservationWorkflowId(r.id))).map((r) => r.id),
    stillRunning: rows.filter((r) => final.has(r.status) && seen.get(reservationWorkflowId(r.id)) === 'RUNNING').map((r) => r.id),
  };
}
