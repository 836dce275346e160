import { Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { apiClient, shopperToken } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { CRASH_POINT_ENTRIES } from '../helpers/crash-points';
import { testInfra } from '../helpers/infra-env';
import { testTemporalClient } from '../helpers/temporal-client';
import { createTestSale, waitFor } from '../helpers/sales';
import { claimedReservation } from '../helpers/workflow-env';

/*
 * Invariant 6 at the two places a crash could leave a held unit without a workflow: the API
 * dying right after the claim commits, and the outbox relay dying after starting a workflow but
 * before recording it. Each process kills itself (kill -9) exactly there: the harness starts it
 * through a test-only entry (test/helpers/entries/) that wires in the crash points of FAULT_CRASH_AT.
 */
let db: Pool;
let connection: Connection;
const started: Array<AppUnderTest | ServiceProcess> = [];

beforeAll(async () => {
  db = new Pool({ connectionString: testInfra().databaseUrl, max: 2 });
  connection = await Connection.connect({ address: testInfra().temporalAddress });
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await connection?.close();
  await db?.end();
});

async function workflowsOfSale(saleId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of testTemporalClient(connection).workflow.list({ query: `SaleId = "${saleId}"` }))
    ids.push(execution.workflowId);
  return ids;
}

test('the API killed right after a claim commits: the unit is not orphaned, and the retried claim gets the same reservation', async () => {
  const app = await startAppUnderTest({ apiEnv: { FAULT_CRASH_AT: 'after-claim-commit' } });
  started.push(app);
  const api = apiClient(app.apiUrl, 8);
  const sale = await createTestSale(api, { units: 1, holdSeconds: 3 });
  const token = await shopperToken(`crash-after-commit-${sale.id}`);
  const headers = { 'idempotency-key': 'checkout-1' };

  await expect(api.post(`/v1/sales/${sale.id}/reservations`, { token, headers })).rejects.toThrow();
  expect(await app.api.exited()).toBeNull(); // killed by SIGKILL, no exit code
  const { rows } = await db.query<{ id: string; status: string }>(`select id, status from reservations where sale_id = $1`, [
    sale.id,
  ]);
  expect(rows).toEqual([{ id: expect.any(String), status: 'held' }]);

  // The workflow is started from the committed row although no API process is running.
  await waitFor(
    () => workflowsOfSale(sale.id),
    (ids) => ids.length === 1,
    20_000,
    'workflow started by the relay',
  );

  const restarted = serviceProcess({ name: 'api', entry: 'api/server.ts', env: app.env });
  started.push(restarted);
  restarted.start();
  await waitForHttp(`${app.apiUrl}/readyz`, 30_000);
  const retry = await api.post(`/v1/sales/${sale.id}/reservations`, { token, headers });
  expect(retry.status).toBe(201);
  expect(retry.body.id).toBe(rows[0]!.id);

  await waitFor(
    async () => (await api.get(`/v1/sales/${sale.id}`)).body,
    (s) => s.available === 1,
    20_000,
    'hold released',
  );
  expect((await api.get(`/v1/reservations/${rows[0]!.id}`, TEST_SECRETS.ADMIN_TOKEN)).body.status).toBe('expired');
  await api.close();
  // Every relay polls the same outbox: stop this one so the next case's worker sees its own claim.
  await Promise.all([app.stop(), restarted.stop()]);
});

test('the relay killed between starting a workflow and recording it: exactly one workflow, released once', async () => {
  const app = await startAppUnderTest({ workerEnv: { OUTBOX_LEASE_SECONDS: '2' } });
  started.push(app);
  const api = apiClient(app.apiUrl, 8);
  const sale = await createTestSale(api, { units: 1, holdSeconds: 4 });
  // The worker that dies, scoped to this sale: another sale's claim waits in the outbox too (as
  // rows of earlier test files may), and the relay must start it without dying.
  await app.worker.stop();
  const bystander = await claimedReservation(db);
  const crashing = serviceProcess({
    name: 'worker',
    entry: CRASH_POINT_ENTRIES.worker,
    env: { ...app.env, OUTBOX_LEASE_SECONDS: '2', FAULT_CRASH_AT: 'after-workflow-start', FAULT_CRASH_SCOPE: sale.id },
  });
  crashing.start();
  const claim = await api.post(`/v1/sales/${sale.id}/reservations`, { token: await shopperToken(`relay-crash-${sale.id}`) });
  expect(claim.status).toBe(201);

  expect(await crashing.exited()).toBeNull();
  const before = await db.query(`select workflow_started_at from reservations where id = $1`, [claim.body.id]);
  expect(before.rows[0]).toEqual({ workflow_started_at: null });
  // Visibility follows a start a moment later (on the real server's SQL visibility store more so).
  expect(
    await waitFor(
      () => workflowsOfSale(sale.id),
      (ids) => ids.length > 0,
      20_000,
      'the started workflow in visibility',
    ),
  ).toHaveLength(1);

  const restarted = serviceProcess({ name: 'worker', entry: 'worker/main.ts', env: { ...app.env, OUTBOX_LEASE_SECONDS: '2' } });
  started.push(restarted);
  restarted.start();
  await waitFor(
    async () =>
      (await db.query(`select workflow_started_at, released_at from reservations where id = $1`, [claim.body.id])).rows[0],
    (row) => row.workflow_started_at !== null && row.released_at !== null,
    30_000,
    'recorded and released after the restart',
  );
  expect(await workflowsOfSale(sale.id)).toHaveLength(1);
  expect(await workflowsOfSale(bystander.sale_id)).toHaveLength(1);
  expect((await api.get(`/v1/sales/${sale.id}`)).body).toMatchObject({ available: 1, held: 0 });
  await api.close();
  await Promise.all([app.stop(), restarted.stop()]);
});
