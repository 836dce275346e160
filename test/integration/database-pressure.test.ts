import { Client as PgClient, Pool } from 'pg';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { type AppUnderTest } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ env: { PG_STATEMENT_TIMEOUT_MS: '1000', PG_POOL_MAX: '10' } }, 200));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

async function crowd(saleId: string, shoppers: number) {
  const tokens = await Promise.all(
    Array.from({ length: shoppers }, (_, i) => shopperToken(`pressure-${saleId}-${i}-${Math.random()}`)),
  );
  return Promise.all(tokens.map((token) => api.post(`/v1/sales/${saleId}/reservations`, { token })));
}

test('claims stay correct while another connection holds a long REPEATABLE READ transaction', async () => {
  const analyst = new PgClient({ connectionString: testInfra().databaseUrl });
  await analyst.connect();
  await analyst.query('begin isolation level repeatable read');
  await analyst.query('select count(*) from units'); // takes the snapshot: vacuum cannot clean behind it
  try {
    const sale = await createTestSale(api, { units: 200 });
    const answers = await crowd(sale.id, 600);
    const statuses = answers.reduce<Record<number, number>>((acc, a) => ({ ...acc, [a.status]: (acc[a.status] ?? 0) + 1 }), {});
    expect(statuses).toEqual({ 201: 200, 409: 400 });
    expect((await api.get(`/v1/sales/${sale.id}`)).body).toMatchObject({ available: 0, held: 200, sold: 0, withdrawn: 0 });
  } finally {
    await analyst.query('commit');
    await analyst.end();
  }
});

test('a blocked table makes claims fail fast with 503 instead of piling up, and they recover after', async () => {
  const sale = await createTestSale(api, { units: 50 });
  const blocker = new PgClient({ connectionString: testInfra().databaseUrl });
  await blocker.connect();
  await blocker.query('begin');
  await blocker.query('lock table units in access exclusive mode');
  let blocked;
  try {
    const started = performance.now();
    blocked = await crowd(sale.id, 40);
    const elapsed = performance.now() - started;
    expect(new Set(blocked.map((a) => a.status))).toEqual(new Set([503]));
    expect(blocked.every((a) => a.contentType.startsWith('application/problem+json'))).toBe(true);
    // Bounded by the statement timeout (1 s) and the pool's wait for a connection (5 s), not by the lock.
    expect(elapsed).toBeLessThan(15_000);
  } finally {
    await blocker.query('rollback');
    await blocker.end();
  }
  const { rows } = await db.query(`select count(*)::int as n from reservations where sale_id = $1`, [sale.id]);
  expect(rows[0]).toEqual({ n: 0 });
  const after = await crowd(sale.id, 60);
  expect(after.filter((a) => a.status === 201)).toHaveLength(50);
  expect(after.filter((a) => a.status === 409)).toHaveLength(10);
});
