import { Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import { serviceProcess, type ServiceProcess } from '../../scripts/stack/service-process';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { CRASH_POINT_ENTRIES } from '../helpers/crash-points';
import { testInfra } from '../helpers/infra-env';
import { testTemporalClient } from '../helpers/temporal-client';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled } from '../helpers/payments';
import { createTestSale, waitFor } from '../helpers/sales';

/*
 * A waitlist hand-off under a crash: the worker kills itself (kill -9) right after the release
 * transaction committed an offer, before Temporal hears that the release activity finished
 * (crash point `after-waitlist-offer`, wired in only by test/helpers/entries/). The offer must
 * survive: its reservation is committed, the restarted worker's relay starts its workflow, the
 * retried release changes nothing, and the waiter can pay.
 */
let app: AppUnderTest;
let api: ApiClient;
let db: Pool;
let connection: Connection;
const workers: ServiceProcess[] = [];

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({}, 16));
  connection = await Connection.connect({ address: testInfra().temporalAddress });
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await connection?.close();
  await stopIntegrationApp({ app, api, db });
});

function startWorker(name: string, entry: string, env: NodeJS.ProcessEnv): ServiceProcess {
  const worker = serviceProcess({ name, entry, env, onLine: (line) => app.logs.push(`[${name}] ${line}`) });
  workers.push(worker);
  worker.start();
  return worker;
}

test('the worker killed right after a release committed a waitlist offer: the offer survives, runs its workflow and can be paid', async () => {
  const sale = await createTestSale(api, { units: 1, holdSeconds: 60, releasePolicy: 'waitlist' });
  // Only a worker that dies at the crash point (for this sale) serves the task queue.
  await app.worker.stop();
  const crashing = startWorker('worker-crashing', CRASH_POINT_ENTRIES.worker, {
    ...app.env,
    FAULT_CRASH_AT: 'after-waitlist-offer',
    FAULT_CRASH_SCOPE: sale.id,
  });

  const [holder, waiter] = await Promise.all([shopperToken(`crash-holder-${sale.id}`), shopperToken(`crash-waiter-${sale.id}`)]);
  const held = await api.post<{ id: string; unitId: number }>(`/v1/sales/${sale.id}/reservations`, { token: holder });
  expect(held.status).toBe(201);
  expect((await api.post(`/v1/sales/${sale.id}/waitlist`, { token: waiter })).status).toBe(201);

  // The cancel reaches the workflow; its release commits the offer and the worker dies.
  const cancel = api.post(`/v1/reservations/${held.body.id}/cancel`, { token: holder }).catch(() => undefined);
  expect(await crashing.exited()).toBeNull(); // killed by SIGKILL, no exit code
  const { rows } = await db.query<{
    id: string;
    status: string;
    origin: string;
    user_id: string;
    workflow_started_at: Date | null;
  }>(`select id, status, origin, user_id, workflow_started_at from reservations where sale_id = $1 order by created_at`, [
    sale.id,
  ]);
  expect(rows.map((r) => [r.status, r.origin, r.user_id])).toEqual([
    ['cancelled', 'claim', `crash-holder-${sale.id}`],
    ['held', 'waitlist', `crash-waiter-${sale.id}`],
  ]);
  const offerId = rows[1]!.id;
  expect((await api.get(`/v1/sales/${sale.id}/waitlist/me`, waiter)).body).toMatchObject({
    status: 'offered',
    reservationId: offerId,
  });

  startWorker('worker-restarted', 'worker/main.ts', app.env);
  await cancel;
  const temporal = testTemporalClient(connection);
  // The holder's workflow retries the release, which finds the reservation already cancelled.
  expect(await temporal.workflow.getHandle(reservationWorkflowId(held.body.id)).result()).toEqual({ status: 'cancelled' });
  await waitFor(
    () =>
      temporal.workflow
        .getHandle(reservationWorkflowId(offerId))
        .describe()
        .then(
          (d) => d.status.name,
          () => 'NOT_FOUND',
        ),
    (status) => status === 'RUNNING',
    60_000,
    'the offer workflow started by the relay',
  );
  expect(
    (await api.post(`/v1/reservations/${offerId}/payment`, { token: waiter, body: { paymentMethod: 'tok_visa' } })).status,
  ).toBe(202);
  expect((await waitUntilSettled(api, offerId, waiter)).status).toBe('paid');
  const report = await api.get<{ violations: unknown[]; counts: unknown }>(
    `/v1/admin/sales/${sale.id}/invariants`,
    TEST_SECRETS.ADMIN_TOKEN,
  );
  expect(report.body.violations).toEqual([]);
  expect(report.body.counts).toEqual({ units: 1, available: 0, held: 0, sold: 1, withdrawn: 0 });
});
