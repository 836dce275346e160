import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { GatewayUnavailableError } from '../payments/gateway';
import { ClaimQueueTimeoutError } from './services/claim-batcher';

const PG_UNAVAILABLE = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004', '53300', '57014']);
// EMFILE, ENFILE: out of file descriptors for a connection to a dependency; it passes as sockets close.
const NODE_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EMFILE', 'ENFILE']);

/**
 * True for failures of Postgres or Temporal that a retry can cure: answered 503, not 500. An update
 * whose RPC timed out (Temporal overloaded) counts: the shopper's retry either goes through or is
 * refused by the workflow's validator because the first one was accepted after all.
 */
export function isDependencyUnavailable(error: unknown): boolean {
  if (error instanceof ServiceError || error instanceof GatewayUnavailableError) return true;
  if (error instanceof ClaimQueueTimeoutError) return true;
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (PG_UNAVAILABLE.has(code) || NODE_UNAVAILABLE.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(message);
}
