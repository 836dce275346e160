import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { ShopperWorkflows } from '../../clients/shopper-workflows';
import { deleteShopperRows, pseudonymiseShopperRows } from '../../db/queries/erase-shopper-rows';
import { addErasedWorkflows, beginErasure, findErasure, finishErasure, type ErasureRow } from '../../db/queries/shopper-erasures';
import { shopperPresence } from '../../db/queries/shopper-presence';
import { ErrorCode } from '../../domain/errors';
import type { ErasureView } from '../../domain/shopper-data';
import { Problem } from '../problem';
import { shopperPseudonym } from './shopper-pseudonym';

export interface EraseShopperDeps {
  pool: Pool;
  shopperWorkflows: ShopperWorkflows;
  erasureSecret: string;
  logger: Logger;
}

/*
 * Erases a shopper (docs/CONTRACT.md, "Erasure and export"): refused while a reservation of theirs
 * holds a unit, waits for a payment or still has a running workflow; otherwise the erasure row
 * first, then the two database steps, then Temporal, then done. Every step finds only what is
 * left, so a call after a crash anywhere finishes the work, and a call after it was done (with
 * nothing new under the id) answers the recorded result.
 */
export async function eraseShopper(deps: EraseShopperDeps, shopperId: string): Promise<ErasureView> {
  const pseudonym = shopperPseudonym(deps.erasureSecret, shopperId);
  const before = await shopperPresence(deps.pool, shopperId, pseudonym);
  const recorded = await findErasure(deps.pool, pseudonym);
  if (recorded?.state === 'done' && before.remaining === 0) {
    // Temporal deletes asynchronously; an execution still there is asked again (counted already).
    await deps.shopperWorkflows.deleteClosed((await deps.shopperWorkflows.find(shopperId, before.erased)).closed);
    return toErasureView(recorded);
  }

  refuseLive(before.live, []);
  const workflows = await deps.shopperWorkflows.find(shopperId, [...before.ended, ...before.erased]);
  refuseLive([], workflows.running);

  const started = await beginErasure(deps.pool, pseudonym);
  deps.logger.info({ pseudonym, attempt: started.attempts }, 'shopper erasure started');
  await pseudonymiseShopperRows(deps.pool, shopperId, pseudonym);
  await deleteShopperRows(deps.pool, shopperId, pseudonym);
  await addErasedWorkflows(deps.pool, pseudonym, await deps.shopperWorkflows.deleteClosed(workflows.closed));

  // A claim, a queue join or a waitlist join made while the steps ran is still under the id.
  const after = await shopperPresence(deps.pool, shopperId, pseudonym);
  if (after.remaining > 0) {
    refuseLive(after.live, []);
    throw new Problem(409, ErrorCode.ShopperHasLiveReservation, 'the shopper acted during the erasure; erase again');
  }
  const done = await finishErasure(deps.pool, pseudonym);
  deps.logger.info({ pseudonym }, 'shopper erased');
  return toErasureView(done);
}

function refuseLive(reservationIds: string[], workflowIds: string[]): void {
  if (reservationIds.length > 0)
    throw new Problem(
      409,
      ErrorCode.ShopperHasLiveReservation,
      'the shopper has a reservation holding a unit or waiting for a payment; erase once it has ended',
      { reservationIds },
    );
  if (workflowIds.length > 0)
    throw new Problem(
      409,
      ErrorCode.ShopperHasLiveReservation,
      "a workflow of the shopper's reservations is still running (a notice or refund to finish); erase once it has ended",
      { reservationIds: workflowIds.map((id) => id.replace(/^reservation-/, '')) },
    );
}

export function toErasureView(row: ErasureRow): ErasureView {
  const count = (key: string) => row.erased[key] ?? 0;
  return {
    status: 'erased',
    pseudonym: row.pseudonym,
    startedAt: row.started_at.toISOString(),
    finishedAt: (row.finished_at ?? row.started_at).toISOString(),
    attempts: row.attempts,
    erased: {
      pseudonymised: { reservations: count('reservations'), queueTickets: count('queueTickets') },
      deleted: {
        waitlistEntries: count('waitlistEntries'),
        notices: count('notices'),
        webhookEvents: count('webhookEvents'),
        holdExtensions: count('holdExtensions'),
        workflows: count('workflows'),
      },
    },
  };
}
