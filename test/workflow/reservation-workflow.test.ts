import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../../activities';
import { workflowInputOf } from '../../clients/reservation-workflows';
import { countUnits } from '../../db/queries/count-units';
import { findReservation } from '../../db/queries/find-reservation';
import type { ReservationRow } from '../../db/rows';
import {
  cancelReservationUpdate,
  reservationStateQuery,
  reservationWorkflowId,
  SEARCH_ATTRIBUTE_REGISTRATIONS,
} from '../../domain/reservation-workflow-contract';
import { temporalTestServerPath } from '../../scripts/stack/tools';
import { reservationWorkflow } from '../../workflows';
import { paymentGateways } from '../../worker/create-worker';
import { testDataConverter } from '../helpers/temporal-client';
import { testInfra } from '../helpers/infra-env';
import { claimedReservation, recordHistory, workflowBundle } from '../helpers/workflow-env';

/*
 * The workflow with its real activities against the run's Postgres. Timer behaviour runs on
 * Temporal's time-skipping test server (minutes of workflow time pass in milliseconds);
 * updates and cancellation run on the real dev server, which the test server does not match
 * there (it has no workflow updates).
 */
let pool: Pool;
// These cases never pay: a gateway on the discard port would refuse any call.
const unusedGateways = paymentGateways({ primaryUrl: 'http://127.0.0.1:9', timeoutMs: 1_000 });

beforeAll(() => {
  pool = new Pool({ connectionString: testInfra().databaseUrl, max: 4 });
});

afterAll(async () => {
  await pool?.end();
});

async function workerFor(env: TestWorkflowEnvironment, taskQueue: string): Promise<{ stop: () => Promise<void> }> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    dataConverter: testDataConverter(),
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ pool, gateways: unusedGateways, notifier: { send: async () => undefined } }),
  });
  const running = worker.run();
  return {
    stop: async () => {
      worker.shutdown();
      await running;
    },
  };
}

function startOn(env: TestWorkflowEnvironment, taskQueue: string, reservation: ReservationRow) {
  return env.client.workflow.start(reservationWorkflow, {
    workflowId: reservationWorkflowId(reservation.id),
    taskQueue,
    args: [workflowInputOf(reservation)],
  });
}

describe('on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;
  let worker: { stop: () => Promise<void> };
  const taskQueue = 'workflow-tests-time-skipping';
  const start = (reservation: ReservationRow) => startOn(env, taskQueue, reservation);

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
      client: { dataConverter: testDataConverter() },
    });
    // The test server knows no custom search attributes until told.
    await env.connection.operatorService.addSearchAttributes({
      namespace: 'default',
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTE_REGISTRATIONS.map((registration) => [
          registration.split('=')[0]!,
          temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        ]),
      ),
    });
    worker = await workerFor(env, taskQueue);
  });

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  test('the default 5-minute hold lasts 5 minutes of workflow time, then releases the unit', async () => {
    const reservation = await claimedReservation(pool, 300);
    const handle = await start(reservation);

    await env.sleep('299 seconds');
    expect((await handle.query(reservationStateQuery)).status).toBe('held');
    expect((await findReservation(pool, reservation.id))!.status).toBe('held');

    expect(await handle.result()).toEqual({ status: 'expired', releasedAs: 'expired' });
    expect((await findReservation(pool, reservation.id))!.status).toBe('expired');
    expect(await countUnits(pool, reservation.sale_id)).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });
    await recordHistory(env.address, handle, 'expired-after-default-hold');
  });

  test('a workflow started after its hold already ended releases right away', async () => {
    const reservation = await claimedReservation(pool, 300);
    const handle = await start({ ...reservation, expires_at: new Date(Date.now() - 1_000) });
    expect(await handle.result()).toEqual({ status: 'expired', releasedAs: 'expired' });
    expect((await findReservation(pool, reservation.id))!.status).toBe('expired');
  });
});

describe('on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let worker: { stop: () => Promise<void> };
  const taskQueue = 'workflow-tests-dev-server';
  const start = (reservation: ReservationRow) => startOn(env, taskQueue, reservation);

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createFromExistingServer({
      address: testInfra().temporalAddress,
      client: { dataConverter: testDataConverter() },
    });
    worker = await workerFor(env, taskQueue);
  });

  afterAll(async () => {
    await worker?.stop();
    await env?.teardown();
  });

  test('a cancel update releases at once and answers with the final status', async () => {
    const reservation = await claimedReservation(pool, 300);
    const handle = await start(reservation);

    expect(await handle.executeUpdate(cancelReservationUpdate)).toBe('cancelled');
    expect(await handle.result()).toEqual({ status: 'cancelled', releasedAs: 'cancelled' });
    expect(await countUnits(pool, reservation.sale_id)).toEqual({ available: 2, held: 0, sold: 0, withdrawn: 0 });
    await expect(handle.executeUpdate(cancelReservationUpdate)).rejects.toThrow();
    await recordHistory(env.address, handle, 'cancelled-by-shopper');
  });

  test('cancelling the workflow itself (support, from the Web UI) still releases the unit', async () => {
    const reservation = await claimedReservation(pool, 300);
    const handle = await start(reservation);
    expect((await handle.query(reservationStateQuery)).status).toBe('held');

    await handle.cancel();
    expect(await handle.result()).toEqual({ status: 'cancelled', releasedAs: 'cancelled' });
    expect((await findReservation(pool, reservation.id))!.status).toBe('cancelled');
    await recordHistory(env.address, handle, 'cancelled-by-support');
  });

  test('starting the same reservation twice is refused: one workflow per reservation', async () => {
    const reservation = await claimedReservation(pool, 300);
    await start(reservation);
    await expect(start(reservation)).rejects.toThrow(/already started/i);
    await env.client.workflow.getHandle(reservationWorkflowId(reservation.id)).cancel();
  });
});
