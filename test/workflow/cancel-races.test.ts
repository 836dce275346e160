import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { workflowInputOf } from '../../clients/reservation-workflows';
import { countUnits } from '../../db/queries/count-units';
import { findReservation } from '../../db/queries/find-reservation';
import type { ReservationRow } from '../../db/rows';
import {
  cancelReservationUpdate,
  reservationStateQuery,
  reservationWorkflowId,
  submitPaymentUpdate,
  type ReservationWorkflowResult,
} from '../../domain/reservation-workflow-contract';
import { reservationWorkflow } from '../../workflows';
import { paymentSagaRigForFile } from '../helpers/payment-saga-rig';
import { claimedReservation, recordHistory } from '../helpers/workflow-env';

/*
 * Support's cancel (a workflow cancellation, as from the Web UI) racing the shopper's payment or
 * the shopper's own cancel, on the real dev server with a real provider process: every workflow
 * must end, with its unit sold or released and the database agreeing.
 */
const taskQueue = 'cancel-race-tests';
const rig = paymentSagaRigForFile({ taskQueue, poolMax: 6, notifier: { send: async () => undefined } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Answer = { ok: true; status: string } | { ok: false; refusal: string };

/** An update's answer: a status, or the workflow's refusal. Anything else (a cancellation) fails the test. */
async function answerOf(update: Promise<string>): Promise<Answer> {
  try {
    return { ok: true, status: await update };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure)
      return { ok: false, refusal: error.cause.type ?? 'unknown' };
    // The workflow finished before the update reached it, or (lean type) the workflow task that
    // carried it was failed by the server because the cancel arrived while it ran: the update
    // was not applied either way.
    const text = error instanceof Error ? `${error.message} ${error.cause instanceof Error ? error.cause.message : ''}` : '';
    if (/not found|completed|already|aborted by closing|unexpected workflow task failure/i.test(text))
      return { ok: false, refusal: text };
    throw error;
  }
}

async function cancelWorkflow(handle: WorkflowHandle): Promise<void> {
  await handle.cancel().catch(() => undefined); // already finished: nothing to cancel
}

/** The workflow's result, or undefined if it has not ended within the bound. */
async function resultWithin(handle: WorkflowHandle, ms: number): Promise<ReservationWorkflowResult | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([handle.result() as Promise<ReservationWorkflowResult>, bound]);
  } finally {
    clearTimeout(timer);
  }
}

interface Race {
  reservation: ReservationRow;
  handle: WorkflowHandle<typeof reservationWorkflow>;
  kind: 'pay' | 'shopper-cancel';
  answer: Answer;
}

async function race(i: number): Promise<Race> {
  const reservation = await claimedReservation(rig.pool, 300);
  const handle = await rig.env.client.workflow.start(reservationWorkflow, {
    workflowId: reservationWorkflowId(reservation.id),
    taskQueue,
    args: [workflowInputOf(reservation)],
  });
  // Half the workflows have run their first task before the race, half are raced at their start.
  if (i % 4 < 2) await handle.query(reservationStateQuery);
  // Vary which is sent first and by how much: 0-30 ms apart, both orders, and the shopper's own cancel.
  const delay = (i * 7) % 31;
  const kind = i % 5 === 4 ? 'shopper-cancel' : 'pay';
  const update = () =>
    kind === 'pay'
      ? handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentMethod: 'tok_visa' }] })
      : handle.executeUpdate(cancelReservationUpdate);
  let answer: Answer;
  if (i % 2 === 0) {
    const pending = answerOf(update());
    await sleep(delay);
    await cancelWorkflow(handle);
    answer = await pending;
  } else {
    const cancelling = cancelWorkflow(handle);
    await sleep(delay);
    answer = await answerOf(update());
    await cancelling;
  }
  return { reservation, handle, kind, answer };
}

test('support cancelling while the shopper pays or cancels: every workflow ends, the unit sold or released', async () => {
  const races: Race[] = [];
  for (let batch = 0; batch < 5; batch++) {
    races.push(...(await Promise.all(Array.from({ length: 8 }, (_, j) => race(batch * 8 + j)))));
  }

  const stuck: string[] = [];
  for (const { reservation, handle, kind, answer } of races) {
    const result = await resultWithin(handle, 30_000);
    if (!result) {
      stuck.push(
        `${reservation.id} (${kind}, answer ${JSON.stringify(answer)}, db ${(await findReservation(rig.pool, reservation.id))?.status})`,
      );
      await handle.terminate('stuck in the cancel-race test').catch(() => undefined);
      continue;
    }
    const row = (await findReservation(rig.pool, reservation.id))!;
    const units = await countUnits(rig.pool, reservation.sale_id);
    expect(row.status).toBe(result.status);
    if (result.status === 'paid') {
      expect(units).toEqual({ available: 1, held: 0, sold: 1, withdrawn: 0 });
      expect(row.charge_id).toBe(result.chargeId);
    } else {
      expect(result.status).toBe('cancelled');
      expect(units).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });
    }
    // An accepted payment is honoured; a payment the workflow refused never sells the unit.
    if (kind === 'pay') expect(result.status === 'paid').toBe(answer.ok);
    else if (answer.ok) expect(answer.status).toBe('cancelled');
    // Nothing stays running.
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  }
  expect(stuck).toEqual([]);
  // Both outcomes occurred, so the race was really run both ways.
  const statuses = new Set(races.map((r) => r.answer.ok));
  expect(statuses.size).toBe(2);

  const raced = races.find((r) => r.kind === 'pay' && r.answer.ok);
  if (raced) await recordHistory(rig.env.address, raced.handle, 'payment-raced-by-support-cancel');
}, 300_000);
