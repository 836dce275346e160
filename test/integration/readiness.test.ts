import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { joinQueue, pollPosition, queueTicketHeader } from '../../clients/waiting-room-client';
import { freePort } from '../../scripts/stack/free-port';
import { serviceProcess, type ServiceProcess } from '../../scripts/stack/service-process';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { createTestSale, waitFor } from '../helpers/sales';

/*
 * Ready means that a sale created now runs: /readyz answers 200 only once a worker polls the API's
 * task queue, so `npm run dev`, the compose health check and the test harness, which all wait for
 * it, hand over a stack whose waiting room admits and whose holds start their workflows.
 */
const processes: ServiceProcess[] = [];
let db: Pool;
let api: ApiClient;

afterAll(async () => {
  await Promise.all(processes.map((p) => p.stop()));
  await api?.close();
  await db?.end();
});

test('/readyz says not-ready until a worker polls the task queue; then a waiting-room sale created at once admits and holds', async () => {
  const { databaseUrl, temporalAddress } = testInfra();
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...TEST_SECRETS,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    PORT: String(port),
    LOG_LEVEL: 'warn',
  };
  const logs: string[] = [];
  const start = (name: string, entry: string) => {
    const service = serviceProcess({ name, entry, env, onLine: (line) => logs.push(`[${name}] ${line}`) });
    processes.push(service);
    service.start();
  };
  db = new Pool({ connectionString: databaseUrl, max: 2 });
  api = apiClient(`http://127.0.0.1:${port}`, 8);
  const readiness = () => api.get('/readyz').catch(() => ({ status: 0, body: {} as Record<string, unknown> }));

  start('api', 'api/server.ts');
  const withoutWorker = await waitFor(
    readiness,
    (answer) => {
      const checks = answer.body.checks as Record<string, string> | undefined;
      return checks?.postgres === 'up' && checks.temporal === 'up';
    },
    60_000,
    'the API reaching Postgres and Temporal',
  );
  expect({ status: withoutWorker.status, body: withoutWorker.body }).toEqual({
    status: 503,
    body: { status: 'not-ready', checks: { postgres: 'up', temporal: 'up', workers: 'down' } },
  });

  start('worker', 'worker/main.ts');
  const ready = await waitFor(readiness, (answer) => answer.status === 200, 120_000, `ready with a worker\n${logs.join('\n')}`);
  expect(ready.body).toEqual({ status: 'ready', checks: { postgres: 'up', temporal: 'up', workers: 'up' } });

  const sale = await createTestSale(api, { units: 2, waitingRoom: { admitPerSecond: 10, powDifficulty: 0 } });
  const token = await shopperToken(`ready-${sale.id}`);
  const ticket = await joinQueue(`http://127.0.0.1:${port}`, sale.id, token);
  const view = await pollPosition(`http://127.0.0.1:${port}`, sale.id, token, { intervalMs: 250 });
  expect(view.status).toBe('admitted');
  const claim = await api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, {
    token,
    headers: queueTicketHeader(ticket),
  });
  expect(claim.status).toBe(201);
  await waitFor(
    async () => (await db.query('select workflow_started_at from reservations where id = $1', [claim.body.id])).rows[0],
    (row) => row?.workflow_started_at != null,
    30_000,
    'the hold workflow started',
  );
}, 240_000);
