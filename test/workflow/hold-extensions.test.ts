import { createReservationWorkflows, workflowInputOf, type ReservationWorkflows } from '../../clients/reservation-workflows';
import { countUnits } from '../../db/queries/count-units';
import { findReservation } from '../../db/queries/find-reservation';
import type { ReservationRow } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import {
  HOLD_EXTENSION_MAX_SECONDS,
  HOLD_EXTENSION_TOTAL_SECONDS,
  reservationStateQuery,
  reservationWorkflowId,
  submitPaymentUpdate,
  type ReservationWorkflowResult,
} from '../../domain/reservation-workflow-contract';
import type { reservationWorkflow } from '../../workflows';
import { paymentSagaRigForFile } from '../helpers/payment-saga-rig';
import { claimedReservation, recordHistory } from '../helpers/workflow-env';

/*
 * Support extending a hold (the `extendHold` update) on the dev server with the real activities
 * and provider: accepted only while held and within its bounds, recorded in Postgres, the hold
 * really lasting longer, and safe against a cancel landing at the same moment.
 */
const taskQueue = 'hold-extension-tests';
const rig = paymentSagaRigForFile({ taskQueue, poolMax: 6, notifier: { send: async () => undefined } });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let workflows: ReservationWorkflows;
beforeAll(() => {
  workflows = createReservationWorkflows(rig.env.client, taskQueue);
});

async function started(holdSeconds: number): Promise<{ reservation: ReservationRow; handle: ReturnType<typeof handleOf> }> {
  const reservation = await claimedReservation(rig.pool, holdSeconds);
  await workflows.start(workflowInputOf(reservation), 'XPhone 15');
  return { reservation, handle: handleOf(reservation) };
}

function handleOf(reservation: ReservationRow) {
  return rig.env.client.workflow.getHandle<typeof reservationWorkflow>(reservationWorkflowId(reservation.id));
}

async function extensionRows(reservationId: string) {
  const { rows } = await rig.pool.query<{
    seq: number;
    seconds: number;
    extended_by: string;
    reason: string | null;
    expires_at: Date;
  }>('select seq, seconds, extended_by, reason, expires_at from hold_extensions where reservation_id = $1::uuid order by seq', [
    reservationId,
  ]);
  return rows;
}

test('a reason Postgres cannot store is refused by the validator, and the hold still extends after', async () => {
  const { reservation } = await started(300);
  const refused = await workflows.extendHold(reservation.id, { seconds: 30, by: 'support:bob', reason: 'down \u0000 again' });
  expect(refused).toMatchObject({ ok: false, code: ErrorCode.InvalidRequest });
  expect(await extensionRows(reservation.id)).toEqual([]);
  const answer = await workflows.extendHold(reservation.id, { seconds: 30, by: 'support:bob', reason: 'card reader down' });
  expect(answer).toEqual({ ok: true, expiresAtMs: reservation.expires_at.getTime() + 30_000 });
});

test('an extension while held moves the deadline in the workflow and in Postgres, and is recorded', async () => {
  const { reservation, handle } = await started(300);
  const before = reservation.expires_at.getTime();

  const answer = await workflows.extendHold(reservation.id, { seconds: 90, by: 'support:bob', reason: 'card reader down' });
  expect(answer).toEqual({ ok: true, expiresAtMs: before + 90_000 });
  expect(await handle.query(reservationStateQuery)).toEqual({ status: 'held', expiresAtMs: before + 90_000 });
  expect((await findReservation(rig.pool, reservation.id))!.expires_at.getTime()).toBe(before + 90_000);
  expect(await extensionRows(reservation.id)).toEqual([
    { seq: 1, seconds: 90, extended_by: 'support:bob', reason: 'card reader down', expires_at: new Date(before + 90_000) },
  ]);

  expect(await workflows.extendHold(reservation.id, { seconds: 30, by: 'support:eve' })).toEqual({
    ok: true,
    expiresAtMs: before + 120_000,
  });
  expect((await extensionRows(reservation.id)).map((row) => [row.seq, row.extended_by, row.reason])).toEqual([
    [1, 'support:bob', 'card reader down'],
    [2, 'support:eve', null],
  ]);

  // The Web UI shows who and what the reservation is.
  const description = await handle.describe();
  expect(await description.staticSummary()).toBe(`XPhone 15 · ${reservation.user_id} · unit ${reservation.unit_id}`);
  expect(await description.staticDetails()).toContain(reservation.id);

  await handle.cancel();
  expect(await handle.result()).toEqual({ status: 'cancelled', releasedAs: 'cancelled' });
});

test('extensions outside their bounds are refused and change nothing', async () => {
  const { reservation, handle } = await started(300);
  const before = reservation.expires_at.getTime();
  for (const seconds of [0, -5, 1.5, HOLD_EXTENSION_MAX_SECONDS + 1, Number.NaN]) {
    const answer = await workflows.extendHold(reservation.id, { seconds, by: 'support:bob' });
    expect([seconds, answer]).toEqual([seconds, { ok: false, code: ErrorCode.InvalidRequest, message: expect.any(String) }]);
  }
  expect(await workflows.extendHold(reservation.id, { seconds: 10, by: ' ' })).toMatchObject({
    ok: false,
    code: ErrorCode.InvalidRequest,
  });

  // Up to the total cap, then no more.
  let granted = 0;
  while (granted + HOLD_EXTENSION_MAX_SECONDS <= HOLD_EXTENSION_TOTAL_SECONDS) {
    expect(await workflows.extendHold(reservation.id, { seconds: HOLD_EXTENSION_MAX_SECONDS, by: 'support:bob' })).toMatchObject({
      ok: true,
    });
    granted += HOLD_EXTENSION_MAX_SECONDS;
  }
  const over = await workflows.extendHold(reservation.id, {
    seconds: HOLD_EXTENSION_TOTAL_SECONDS - granted + 1,
    by: 'support:bob',
  });
  expect(over).toMatchObject({ ok: false, code: ErrorCode.InvalidRequest, message: expect.stringMatching(/in all/) });
  expect((await findReservation(rig.pool, reservation.id))!.expires_at.getTime()).toBe(before + granted * 1000);
  expect((await extensionRows(reservation.id)).reduce((sum, row) => sum + row.seconds, 0)).toBe(granted);

  await handle.cancel();
  await handle.result();
});

test('an extension is refused once the reservation is payment_pending or paid', async () => {
  const { reservation, handle } = await started(300);
  expect(await handle.executeUpdate(submitPaymentUpdate, { args: [{ paymentMethod: 'tok_slow' }] })).toBe('payment_pending');
  expect(await workflows.extendHold(reservation.id, { seconds: 60, by: 'support:bob' })).toMatchObject({
    ok: false,
    code: ErrorCode.InvalidState,
  });
  expect(await handle.result()).toMatchObject({ status: 'paid' });
  expect(await workflows.extendHold(reservation.id, { seconds: 60, by: 'support:bob' })).toMatchObject({
    ok: false,
    code: ErrorCode.InvalidState,
  });
  expect(await extensionRows(reservation.id)).toEqual([]);
  expect((await findReservation(rig.pool, reservation.id))!.expires_at).toEqual(reservation.expires_at);
}, 60_000);

test('an extension really delays the expiry, and none is accepted after the hold ended', async () => {
  const { reservation, handle } = await started(2);
  const answer = await workflows.extendHold(reservation.id, { seconds: 3, by: 'support:bob' });
  expect(answer).toEqual({ ok: true, expiresAtMs: reservation.expires_at.getTime() + 3_000 });

  // Past the original deadline the unit is still held, by the workflow and in Postgres.
  await sleep(Math.max(0, reservation.expires_at.getTime() + 1_000 - Date.now()));
  expect((await handle.query(reservationStateQuery)).status).toBe('held');
  expect((await findReservation(rig.pool, reservation.id))!.status).toBe('held');

  expect(await handle.result()).toEqual({ status: 'expired', releasedAs: 'expired' });
  const { rows } = await rig.pool.query<{ released_at: Date }>('select released_at from reservations where id = $1::uuid', [
    reservation.id,
  ]);
  expect(rows[0]!.released_at.getTime()).toBeGreaterThanOrEqual(reservation.expires_at.getTime() + 3_000);
  expect(await countUnits(rig.pool, reservation.sale_id)).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });

  expect(await workflows.extendHold(reservation.id, { seconds: 3, by: 'support:bob' })).toMatchObject({
    ok: false,
    code: ErrorCode.InvalidState,
  });
  await recordHistory(rig.env.address, handle, 'extended-then-expired');
}, 30_000);

test('extensions racing a cancel (support or shopper): every workflow ends cancelled, the unit released, the record true', async () => {
  const races = await Promise.all(
    Array.from({ length: 24 }, async (_, i) => {
      const { reservation, handle } = await started(300);
      if (i % 4 < 2) await handle.query(reservationStateQuery);
      const delay = (i * 7) % 23;
      const cancel = () =>
        i % 3 === 2 ? workflows.cancel(reservation.id).then(() => undefined) : handle.cancel().catch(() => undefined);
      let answer: Awaited<ReturnType<ReservationWorkflows['extendHold']>>;
      if (i % 2 === 0) {
        const extending = workflows.extendHold(reservation.id, { seconds: 60, by: 'support:bob' });
        await sleep(delay);
        await cancel();
        answer = await extending;
      } else {
        const cancelling = cancel();
        await sleep(delay);
        answer = await workflows.extendHold(reservation.id, { seconds: 60, by: 'support:bob' });
        await cancelling;
      }
      return { reservation, handle, answer };
    }),
  );

  for (const { reservation, handle, answer } of races) {
    const result = (await handle.result()) as ReservationWorkflowResult;
    expect(result.status).toBe('cancelled');
    expect(await countUnits(rig.pool, reservation.sale_id)).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });
    const row = (await findReservation(rig.pool, reservation.id))!;
    expect(row.status).toBe('cancelled');
    // An accepted extension is recorded and moved expires_at; a refused one left no trace.
    const extensions = await extensionRows(reservation.id);
    if (answer.ok) {
      expect(extensions).toHaveLength(1);
      expect(row.expires_at.getTime()).toBe(answer.expiresAtMs);
    } else {
      expect(answer.code).toBe(ErrorCode.InvalidState);
      expect(extensions).toEqual([]);
      expect(row.expires_at).toEqual(reservation.expires_at);
    }
  }
  // Both answers occurred, so the race was run both ways.
  expect(new Set(races.map((r) => r.answer.ok)).size).toBe(2);
  const extendedThenCancelled = races.find((r) => r.answer.ok);
  if (extendedThenCancelled) await recordHistory(rig.env.address, extendedThenCancelled.handle, 'extended-then-cancelled');
}, 120_000);
