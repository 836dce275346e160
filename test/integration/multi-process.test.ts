import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { freePort } from '../../scripts/stack/free-port';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { apiClient, shopperToken, type ApiAnswer, type ApiClient } from '../helpers/api-client';
import { type AppUnderTest } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { testTemporalClient } from '../helpers/temporal-client';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor } from '../helpers/sales';

/**
 * Two API processes and two workers (each with its outbox relay) on one task queue, one Postgres
 * and one Temporal. The harness starts API 1 and worker 1; this file starts API 2 and worker 2 from
 * the same environment.
 */
const RATE_LIMIT = 5;

let app: AppUnderTest;
let api1: ApiClient;
let api2: ApiClient;
let db: Pool;
let api2Process: ServiceProcess;
let worker2: ServiceProcess;
let connection: Connection;
let temporal: Client;

beforeAll(async () => {
  ({
    app,
    api: api1,
    db,
  } = await startIntegrationApp(
    {
      env: {
        OUTBOX_LEASE_SECONDS: '3',
        RATE_LIMIT_PER_SHOPPER: String(RATE_LIMIT),
        RATE_LIMIT_PER_SHOPPER_WINDOW_MS: '600000',
      },
    },
    500,
  ));
  const port2 = await freePort();
  api2Process = serviceProcess({
    name: 'api-2',
    entry: 'api/server.ts',
    env: { ...app.env, PORT: String(port2) },
    onLine: (line) => app.logs.push(`[api-2] ${line}`),
  });
  let worker2Running: () => void = () => undefined;
  const worker2Ready = new Promise<void>((resolve) => (worker2Running = resolve));
  worker2 = serviceProcess({
    name: 'worker-2',
    entry: 'worker/main.ts',
    env: app.env,
    onLine: (line) => {
      app.logs.push(`[worker-2] ${line}`);
      if (line.includes("state: 'RUNNING'") || line.includes('"state":"RUNNING"')) worker2Running();
    },
  });
  api2Process.start();
  worker2.start();
  await Promise.all([waitForHttp(`http://127.0.0.1:${port2}/readyz`, 60_000), worker2Ready]);
  api2 = apiClient(`http://127.0.0.1:${port2}`, 500);
  connection = await Connection.connect({ address: testInfra().temporalAddress });
  temporal = testTemporalClient(connection);
}, 120_000);

afterAll(async () => {
  await api2?.close();
  await Promise.all([api2Process?.stop(), worker2?.stop()]);
  await connection?.close();
  await stopIntegrationApp({ app, api: api1, db });
});

const isSoldOut = (a: ApiAnswer) => a.status === 409 && String(a.body.type).endsWith('/sold-out');

/** Every execution Temporal lists for the sale, as workflow ids (one entry per run). */
async function workflowIdsOf(saleId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of temporal.workflow.list({ query: `SaleId = "${saleId}"` })) ids.push(execution.workflowId);
  return ids;
}

async function reservationsOf(saleId: string): Promise<Array<{ id: string; status: string; started: boolean }>> {
  const { rows } = await db.query<{ id: string; status: string; started: boolean }>(
    `select id, status, workflow_started_at is not null as started from reservations where sale_id = $1`,
    [saleId],
  );
  return rows;
}

test('2,000 shoppers over two APIs: exactly 200 winners, one workflow each, sold-out cleared in both processes', async () => {
  const units = 200;
  const sale = await createTestSale(api1, { units });
  const tokens = await Promise.all(Array.from({ length: 2_000 }, (_, i) => shopperToken(`mp-${sale.id}-${i}`)));

  const started = performance.now();
  const answers = await Promise.all(
    tokens.map((token, i) => (i % 2 === 0 ? api1 : api2).post(`/v1/sales/${sale.id}/reservations`, { token })),
  );
  const elapsedMs = performance.now() - started;

  const created = answers.filter((a) => a.status === 201);
  const others = answers.filter((a) => a.status !== 201 && !isSoldOut(a));
  expect(others.map((a) => `${a.status} ${JSON.stringify(a.body)}`).slice(0, 5)).toEqual([]);
  expect(created).toHaveLength(units);
  expect(answers.filter(isSoldOut)).toHaveLength(2_000 - units);
  expect(new Set(created.map((a) => a.body.unitId)).size).toBe(units);
  const winnersPerApi = [0, 1].map((parity) => answers.filter((a, i) => i % 2 === parity && a.status === 201).length);

  const { rows } = await db.query<{ held_units: number; available_units: number; live: number; mismatched: number }>(
    `select (select count(*)::int from units where sale_id = $1 and status = 'held') as held_units,
            (select count(*)::int from units where sale_id = $1 and status = 'available') as available_units,
            (select count(*)::int from reservations where sale_id = $1 and status = 'held') as live,
            (select count(*)::int from units u join reservations r on r.id = u.reservation_id
              where u.sale_id = $1 and (r.unit_id <> u.id or r.status <> 'held')) as mismatched`,
    [sale.id],
  );
  expect(rows[0]).toEqual({ held_units: units, available_units: 0, live: units, mismatched: 0 });

  // Relays: every reservation marked started, and Temporal holds exactly one run of reservation-<id>.
  await waitFor(
    async () => (await reservationsOf(sale.id)).filter((r) => r.started).length,
    (n) => n === units,
    60_000,
    'reservations marked started',
  );
  const ids = await waitFor(
    () => workflowIdsOf(sale.id),
    (list) => list.length >= units,
    60_000,
    'listed workflows',
  );
  const expected = (await reservationsOf(sale.id)).map((r) => `reservation-${r.id}`).sort();
  expect([...ids].sort()).toEqual(expected);
  const duplicates = ids.length - new Set(ids).size;
  expect(duplicates).toBe(0);
  const described = await temporal.workflow.getHandle(expected[0]!).describe();
  expect(described.status.name).toBe('RUNNING');

  // Both processes now answer sold-out (from memory or not).
  const probe1 = await api1.post(`/v1/sales/${sale.id}/reservations`, { token: await shopperToken(`mp-probe1-${sale.id}`) });
  const probe2 = await api2.post(`/v1/sales/${sale.id}/reservations`, { token: await shopperToken(`mp-probe2-${sale.id}`) });
  expect([isSoldOut(probe1), isSoldOut(probe2)]).toEqual([true, true]);

  // A cancel through API 1 gives a unit back; a claim through API 2 must get it.
  const winner = created[0]!;
  const winnerToken = tokens[answers.indexOf(winner)]!;
  const cancel = await api1.post(`/v1/reservations/${winner.body.id}/cancel`, { token: winnerToken });
  expect(cancel.status).toBe(200);
  const counts = await api1.get(`/v1/sales/${sale.id}`);
  expect(counts.body).toMatchObject({ available: 1, held: units - 1 });
  // The mark clears through LISTEN/NOTIFY, asynchronously: a few fresh shoppers may still hear
  // sold-out in the moment after the release; within 5 s one must get the unit.
  let attempts = 0;
  const reclaim = await waitFor(
    async () =>
      api2.post(`/v1/sales/${sale.id}/reservations`, { token: await shopperToken(`mp-reclaim-${sale.id}-${attempts++}`) }),
    (a) => a.status !== 409,
    5_000,
    'claim through API 2 after the cancel',
  );
  expect(reclaim.status).toBe(201);
  const after = await api2.get(`/v1/sales/${sale.id}`);
  expect(after.body).toMatchObject({ available: 0, held: units });

  const reclaimId = `reservation-${String(reclaim.body.id)}`;
  const finalIds = await waitFor(
    () => workflowIdsOf(sale.id),
    (list) => list.includes(reclaimId),
    30_000,
    'workflow of the reclaim',
  );
  expect(finalIds).toHaveLength(units + 1);
  expect(new Set(finalIds).size).toBe(units + 1);

  console.log(
    `multi-process crowd: 2000 claims over 2 APIs in ${elapsedMs.toFixed(0)} ms; winners ${created.length} ` +
      `(API 1 ${winnersPerApi[0]}, API 2 ${winnersPerApi[1]}); sold-out ${answers.filter(isSoldOut).length}; ` +
      `workflows ${finalIds.length} for ${units + 1} reservations, duplicates ${finalIds.length - new Set(finalIds).size}; ` +
      `claim via API 2 after cancel via API 1: 201 on attempt ${attempts}`,
  );
}, 240_000);

test('per-shopper rate limits are per process: one shopper gets 2 x the limit over two APIs', async () => {
  const sale = await createTestSale(api1, { units: 10 });
  const token = await shopperToken(`mp-limited-${sale.id}`);
  const send = (client: ApiClient) => client.post(`/v1/sales/${sale.id}/reservations`, { token });
  const first: ApiAnswer[] = [];
  const second: ApiAnswer[] = [];
  for (let i = 0; i < RATE_LIMIT + 2; i++) first.push(await send(api1));
  for (let i = 0; i < RATE_LIMIT + 2; i++) second.push(await send(api2));

  const passed = (list: ApiAnswer[]) => list.filter((a) => a.status !== 429).length;
  expect(first.map((a) => a.status)).toEqual([201, ...Array(RATE_LIMIT - 1).fill(409), 429, 429]);
  expect(second.map((a) => a.status)).toEqual([...Array(RATE_LIMIT).fill(409), 429, 429]);
  expect(passed(first) + passed(second)).toBe(2 * RATE_LIMIT);
  console.log(
    `multi-process rate limit: limit ${RATE_LIMIT} per process, one shopper got ${passed(first)} via API 1 + ` +
      `${passed(second)} via API 2 = ${passed(first) + passed(second)} before 429`,
  );
});

test('kill -9 of one API and one worker mid-sale: every reservation keeps its workflow and every hold is released', async () => {
  const units = 150;
  const sale = await createTestSale(api1, { units, holdSeconds: 8 });
  const tokens = await Promise.all(Array.from({ length: 400 }, (_, i) => shopperToken(`mp-kill-${sale.id}-${i}`)));
  let wins = 0;
  let killed: Promise<void> | undefined;
  const claim = async (token: string, i: number) => {
    try {
      const answer = await (i % 2 === 0 ? api1 : api2).post(`/v1/sales/${sale.id}/reservations`, { token });
      if (answer.status === 201 && ++wins === 40)
        killed = Promise.all([api2Process.kill9(), worker2.kill9()]).then(() => undefined);
      return answer.status;
    } catch {
      return 'connection lost';
    }
  };
  const firstWave = await Promise.all(tokens.slice(0, 200).map(claim));
  await killed;
  expect(killed).toBeDefined();
  // The rest of the crowd goes to the surviving API.
  const secondWave = await Promise.all(
    tokens.slice(200).map((token) => api1.post(`/v1/sales/${sale.id}/reservations`, { token }).then((a) => a.status)),
  );
  const statuses = [...firstWave, ...secondWave];
  const made = (await reservationsOf(sale.id)).length;
  expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(made);
  expect(made).toBe(units);

  // Nothing lost: each reservation (including any whose answer died with API 2) gets its one
  // workflow, and the surviving worker releases every hold when it expires.
  await waitFor(
    async () => (await reservationsOf(sale.id)).filter((r) => r.started).length,
    (n) => n === units,
    60_000,
    'reservations marked started after the kill',
  );
  const released = await waitFor(
    async () =>
      (
        await db.query<{ available: number; expired: number }>(
          `select (select count(*)::int from units where sale_id = $1 and status = 'available') as available,
                  (select count(*)::int from reservations where sale_id = $1 and status = 'expired') as expired`,
          [sale.id],
        )
      ).rows[0]!,
    (r) => r.available === units && r.expired === units,
    120_000,
    'holds released by the survivors',
  );
  expect(released).toEqual({ available: units, expired: units });
  const ids = await waitFor(
    () => workflowIdsOf(sale.id),
    (list) => list.length >= units,
    30_000,
    'listed workflows',
  );
  expect(ids).toHaveLength(units);
  expect(new Set(ids).size).toBe(units);
  console.log(
    `multi-process kill -9: ${statuses.filter((s) => s === 201).length} answered 201 ` +
      `(${statuses.filter((s) => s === 'connection lost').length} connections lost with API 2), ${made} reservations, ` +
      `${ids.length} workflows, duplicates ${ids.length - new Set(ids).size}, all ${released.available} units back after the 8 s hold`,
  );
}, 240_000);
