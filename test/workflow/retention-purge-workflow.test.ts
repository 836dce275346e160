import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Pool } from 'pg';
import { createActivities } from '../../activities';
import { queueViolations } from '../../db/queries/queue-tickets';
import type { RetentionPurgeInput } from '../../domain/retention';
import { temporalTestServerPath } from '../../scripts/stack/tools';
import { retentionPurgeWorkflow } from '../../workflows';
import { paymentGateways } from '../../worker/create-worker';
import { testInfra } from '../helpers/infra-env';
import { expectedAfterPurge, plantRetentionRows, remainingRows } from '../helpers/retention-rows';
import { recordHistory, workflowBundle } from '../helpers/workflow-env';

/* The purge workflow with its real activity against the run's Postgres (the schedule: test/integration/retention-schedule.test.ts). */
let pool: Pool;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = 'retention-purge-tests';

beforeAll(async () => {
  pool = new Pool({ connectionString: testInfra().databaseUrl, max: 4 });
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
  });
  worker = await Worker.create({
    connection: env.nativeConnection,
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

// The worker's default periods; batches of 2 so that one run takes several per target.
const input: RetentionPurgeInput = { periods: { queueDaysAfterSoldOut: 7, webhookEventDays: 30, noticeDays: 30 }, batchSize: 2 };

test('deletes what outlived its period, keeps what did not and live sales, and a second run changes nothing', async () => {
  const planted = await plantRetentionRows(pool);
  expect(await queueViolations(pool, planted.longSoldOut)).not.toEqual([]); // the planted claim has no admission
  const handle = await env.client.workflow.start(retentionPurgeWorkflow, {
    args: [input],
    taskQueue,
    workflowId: `retention-purge-${randomUUID()}`,
  });
  const first = await handle.result();
  expect(await remainingRows(pool, planted)).toEqual(expectedAfterPurge(planted));
  expect(first['queue-tickets']).toBeGreaterThanOrEqual(3);
  expect(first['webhook-events']).toBeGreaterThanOrEqual(1);
  expect(first.notices).toBeGreaterThanOrEqual(2);
  expect(first['pow-join-counts']).toBeGreaterThanOrEqual(1);
  // The checker leaves a purged room's queue alone; the claim kept its reservation.
  expect(await queueViolations(pool, planted.longSoldOut)).toEqual([]);
  await recordHistory(env.address, handle, 'retention-purge');

  const second = await env.client.workflow.execute(retentionPurgeWorkflow, {
    args: [input],
    taskQueue,
    workflowId: `retention-purge-${randomUUID()}`,
  });
  // Its counts are not asserted: the suite shares one Postgres, and other files' rows may age meanwhile.
  expect(Object.values(second).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
  expect(await remainingRows(pool, planted)).toEqual(expectedAfterPurge(planted));
}, 60_000);

test('an activity that keeps failing is tried 3 times per target, and the run fails naming the targets', async () => {
  const failingQueue = 'retention-purge-failing';
  let attempts = 0;
  const failing = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: failingQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      purgeExpiredRows: async () => {
        attempts++;
        throw new Error('database unreachable');
      },
    },
  });
  const outcome = await failing.runUntil(
    env.client.workflow
      .execute(retentionPurgeWorkflow, { args: [input], taskQueue: failingQueue, workflowId: `retention-purge-${randomUUID()}` })
      .then(
        () => 'completed',
        (error: WorkflowFailedError) => error.cause,
      ),
  );
  expect(outcome).toBeInstanceOf(ApplicationFailure);
  expect(outcome).toMatchObject({
    type: 'RETENTION_PURGE_FAILED',
    message: 'retention purge failed for queue-tickets, pow-join-counts, webhook-events, notices',
  });
  expect(attempts).toBe(3 * 4);
}, 60_000);
