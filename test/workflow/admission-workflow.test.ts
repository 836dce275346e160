import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../../activities';
import { createSale } from '../../db/queries/create-sale';
import { insertTicket } from '../../db/queries/queue-tickets';
import { admissionWorkflowId, type AdmissionWorkflowInput } from '../../domain/waiting-room';
import { queueViolations } from '../../db/queries/queue-tickets';
import { temporalTestServerPath } from '../../scripts/stack/tools';
import { admissionWorkflow } from '../../workflows';
import { ADMISSION_TICKS_PER_RUN } from '../../workflows/admission-workflow';
import { paymentGateways } from '../../worker/create-worker';
import { testDataConverter } from '../helpers/temporal-client';
import { testInfra } from '../helpers/infra-env';
import { recordHistory, workflowBundle } from '../helpers/workflow-env';

/*
 * The admission workflow with its real activities against the run's Postgres, on Temporal's
 * time-skipping test server: minutes of ticks pass in seconds, continueAsNew included.
 */
let pool: Pool;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'admission-workflow-tests';

beforeAll(async () => {
  pool = new Pool({ connectionString: testInfra().databaseUrl, max: 4 });
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
    client: { dataConverter: testDataConverter() },
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
    dataConverter: testDataConverter(),
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities({
      pool,
      gateways: paymentGateways({ primaryUrl: 'http://127.0.0.1:9', timeoutMs: 1_000 }),
      notifier: { send: async () => undefined },
    }),
  });
  running = worker.run();
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await pool?.end();
});

async function roomSale(units: number, startsAt: Date, admitPerSecond: number, shoppers: number) {
  const sale = await createSale(pool, {
    id: randomUUID(),
    sku: 'XPHONE-15',
    name: 'XPhone 15',
    units,
    priceCents: 99_900,
    currency: 'EUR',
    startsAt,
    holdSeconds: 300,
    stripes: 1,
    waitingRoom: { admitPerSecond, admissionSeconds: 3_600, confirmSeconds: 3_600, powDifficulty: 0 },
  });
  for (let i = 0; i < shoppers; i++) {
    await insertTicket(pool, { id: randomUUID(), saleId: sale.id, shopperId: `s${i}-${sale.id}`, challengeId: randomUUID() });
  }
  const input: AdmissionWorkflowInput = {
    saleId: sale.id,
    startsAtMs: startsAt.getTime(),
    admitPerSecond,
    admissionSeconds: 3_600,
  };
  return { sale, input };
}

const room = async (saleId: string) =>
  (
    await pool.query<{ serving: number; assigned: number; shuffle_seed: string | null }>(
      'select serving, assigned, shuffle_seed from waiting_rooms where sale_id = $1',
      [saleId],
    )
  ).rows[0]!;
const sellEverything = (saleId: string) =>
  pool.query(`update units set status = 'sold', reservation_id = gen_random_uuid() where sale_id = $1`, [saleId]);

test('waits for the start, shuffles, admits no more than the units left, pauses, continues as new, ends when sold', async () => {
  const startsAt = new Date(Date.now() + 60_000);
  const { sale, input } = await roomSale(3, startsAt, 2, 5);
  const handle = await env.client.workflow.start(admissionWorkflow, {
    workflowId: admissionWorkflowId(sale.id),
    taskQueue,
    args: [input],
  });
  const firstRun = handle.firstExecutionRunId;

  await env.sleep('30 seconds');
  expect(await room(sale.id)).toMatchObject({ serving: 0, assigned: 0, shuffle_seed: null });

  // The shuffle asks the database clock, which the test server does not skip: the sale starts now there too.
  await pool.query('update sales set starts_at = now() where id = $1', [sale.id]);
  await env.sleep('40 seconds');
  // Five pre-queue tickets ordered; three units, nobody has claimed: three admitted, then paused.
  expect(await room(sale.id)).toMatchObject({ serving: 3, assigned: 5, shuffle_seed: expect.any(String) });

  await env.sleep(`${ADMISSION_TICKS_PER_RUN + 20} seconds`);
  expect(await room(sale.id)).toMatchObject({ serving: 3, assigned: 5 });
  const described = await handle.describe();
  expect(described.runId).not.toBe(firstRun);
  expect(await queueViolations(pool, sale.id)).toEqual([]);

  await sellEverything(sale.id);
  expect(await handle.result()).toEqual({ serving: 3 });
  await recordHistory(env.address, handle, 'admission-after-continue-as-new');
});

test('a sale already running is shuffled at once and admits at its rate until it is sold', async () => {
  const { sale, input } = await roomSale(10, new Date(Date.now() - 1_000), 2, 8);
  const handle = await env.client.workflow.start(admissionWorkflow, {
    workflowId: admissionWorkflowId(sale.id),
    taskQueue,
    args: [input],
  });
  await env.sleep('2 seconds');
  const early = await room(sale.id);
  expect(early.serving).toBeLessThanOrEqual(4);
  await env.sleep('5 seconds');
  expect(await room(sale.id)).toMatchObject({ serving: 8, assigned: 8 });
  // Each step is keyed by its tick's workflow time (the test server's skipped clock).
  const { rows } = await pool.query<{ last_step_key: string | null }>(
    'select last_step_key from waiting_rooms where sale_id = $1',
    [sale.id],
  );
  expect(Number(rows[0]!.last_step_key)).toBeGreaterThan(input.startsAtMs);
  await sellEverything(sale.id);
  expect(await handle.result()).toEqual({ serving: 8 });
  await recordHistory(env.address, handle, 'admission-first-run');
});
