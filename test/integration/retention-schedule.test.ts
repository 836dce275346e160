import { Client, Connection, type ScheduleHandle } from '@temporalio/client';
import { retentionScheduleId, WORKFLOW_HISTORY_RETENTION_HOURS, type RetentionPurgeResult } from '../../domain/retention';
import { freePort } from '../../scripts/stack/free-port';
import { ensureRetentionSchedule } from '../../worker/retention-schedule';
import { testInfra } from '../helpers/infra-env';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import { expectedAfterPurge, plantRetentionRows, remainingRows } from '../helpers/retention-rows';
import { waitFor } from '../helpers/sales';
import { testTemporalClient } from '../helpers/temporal-client';

/*
 * The retention purge as it runs: the worker creates its Temporal Schedule at start-up, and a
 * triggered run of it purges the run's Postgres with the worker's default periods.
 */
let parts: IntegrationApp;
let connection: Connection;
let client: Client;
let schedule: ScheduleHandle;
let metricsAddress: string;

beforeAll(async () => {
  metricsAddress = `127.0.0.1:${await freePort()}`;
  parts = await startIntegrationApp({ workerEnv: { WORKER_APP_METRICS_ADDRESS: metricsAddress } });
  connection = await Connection.connect({ address: testInfra().temporalAddress });
  client = testTemporalClient(connection);
  schedule = client.schedule.getHandle(retentionScheduleId(parts.app.taskQueue));
}, 120_000);

afterAll(async () => {
  await schedule?.delete().catch(() => undefined);
  await connection?.close();
  await stopIntegrationApp(parts);
});

/** Waits for the schedule's `count`-th run and answers its result. */
async function runResult(count: number): Promise<RetentionPurgeResult> {
  const { info } = await waitFor(
    () => schedule.describe(),
    (d) => d.info.recentActions.length >= count,
    30_000,
    'schedule runs',
  );
  const run = info.recentActions[count - 1]!.action.workflow;
  return client.workflow.getHandle(run.workflowId, run.firstExecutionRunId).result() as Promise<RetentionPurgeResult>;
}

test('the worker has created the schedule: SKIP, a small catch-up window, the default periods', async () => {
  const described = await schedule.describe();
  expect(described.policies).toMatchObject({ overlap: 'SKIP', catchupWindow: 5 * 60_000, pauseOnFailure: false });
  expect(described.spec.intervals?.map((interval) => interval.every)).toEqual([60 * 60_000]);
  expect(described.action).toMatchObject({
    workflowType: 'retentionPurgeWorkflow',
    taskQueue: parts.app.taskQueue,
    args: [{ periods: { queueDaysAfterSoldOut: 7, webhookEventDays: 30, noticeDays: 30 }, batchSize: 500 }],
  });
  expect(described.action.workflowExecutionTimeout).toBe(30 * 60_000);
});

test('triggering it purges what outlived its period and keeps the rest; a second run changes nothing', async () => {
  const planted = await plantRetentionRows(parts.db);
  const expected = expectedAfterPurge(planted);
  await schedule.trigger();
  const first = await runResult(1);
  expect(first['queue-tickets']).toBeGreaterThanOrEqual(3);
  expect(first.notices).toBeGreaterThanOrEqual(2);
  expect(await remainingRows(parts.db, planted)).toEqual(expected);

  await schedule.trigger();
  await runResult(2);
  expect(await remainingRows(parts.db, planted)).toEqual(expected);
  // The worker counted what it deleted.
  const metrics = await (await fetch(`http://${metricsAddress}/metrics`)).text();
  const counted = (target: string) =>
    Number(new RegExp(`^retention_purged_rows_total\\{target="${target}"\\} (\\d+)$`, 'm').exec(metrics)?.[1]);
  expect(counted('queue-tickets')).toBeGreaterThanOrEqual(3);
  expect(counted('webhook-events')).toBeGreaterThanOrEqual(1);
}, 90_000);

test('creating the schedule again updates it in place', async () => {
  const input = { periods: { queueDaysAfterSoldOut: 9, webhookEventDays: 31, noticeDays: 32 }, batchSize: 100 };
  await ensureRetentionSchedule(client, { taskQueue: parts.app.taskQueue, everyMinutes: 15, input });
  const described = await schedule.describe();
  expect(described.spec.intervals?.map((interval) => interval.every)).toEqual([15 * 60_000]);
  expect(described.action.args).toEqual([input]);
  expect(described.policies.overlap).toBe('SKIP');
});

test(`Temporal keeps closed histories ${WORKFLOW_HISTORY_RETENTION_HOURS} h`, async () => {
  const { config } = await connection.workflowService.describeNamespace({ namespace: 'default' });
  expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(WORKFLOW_HISTORY_RETENTION_HOURS * 3_600);
});
