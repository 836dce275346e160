import { isGrpcServiceError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { reservationWorkflowId, ShopperIdAttribute } from '../domain/reservation-workflow-contract';

/** gRPC status NOT_FOUND: the execution is gone already (a retry of a deletion). */
const GRPC_NOT_FOUND = 5;

/*
 * A shopper's reservation workflows carry the shopper id in their input, their summary and
 * details, and the `ShopperId` search attribute; the erasure (api/services/erase-shopper.ts)
 * deletes every closed one (DeleteWorkflowExecution: history and visibility record). They are
 * found two ways: `reservation-<id>` for each reservation in Postgres (under the shopper id or,
 * on a retry, the pseudonym), and the visibility query `ShopperId = "<id>"`, which also finds an
 * execution whose row is gone. Visibility is eventually consistent, so a deleted execution may
 * be listed for a moment: describe() is the authority, and NOT_FOUND means already deleted.
 */
export interface ShopperWorkflows {
  /** The shopper's reservation workflows that exist, closed or running (workflow ids). */
  find(shopperId: string, reservationIds: readonly string[]): Promise<{ closed: string[]; running: string[] }>;
  /** Deletes closed executions; answers how many this call deleted (one already gone is not counted). */
  deleteClosed(workflowIds: readonly string[]): Promise<number>;
}

/** A Keyword value in a visibility query: a double-quoted string, `\` and `"` escaped. */
export function shopperQuery(shopperId: string): string {
  return `${ShopperIdAttribute.name} = "${shopperId.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function createShopperWorkflows(client: Client): ShopperWorkflows {
  const namespace = client.options.namespace;

  async function status(workflowId: string): Promise<'running' | 'closed' | 'gone'> {
    try {
      const description = await client.workflow.getHandle(workflowId).describe();
      return description.status.name === 'RUNNING' ? 'running' : 'closed';
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return 'gone';
      throw error;
    }
  }

  return {
    async find(shopperId, reservationIds) {
      const ids = new Set(reservationIds.map(reservationWorkflowId));
      for await (const execution of client.workflow.list({ query: shopperQuery(shopperId) })) ids.add(execution.workflowId);
      const closed: string[] = [];
      const running: string[] = [];
      for (const workflowId of ids) {
        const found = await status(workflowId);
        if (found === 'running') running.push(workflowId);
        else if (found === 'closed') closed.push(workflowId);
      }
      return { closed, running };
    },

    async deleteClosed(workflowIds) {
      let deleted = 0;
      for (const workflowId of workflowIds) {
        // Only a closed execution: DeleteWorkflowExecution would terminate a running one.
        if ((await status(workflowId)) !== 'closed') continue;
        try {
          await client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution: { workflowId } });
          deleted++;
        } catch (error) {
          if (!(isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND)) throw error;
        }
      }
      return deleted;
    },
  };
}
