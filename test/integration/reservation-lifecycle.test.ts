import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { testTemporalClient } from '../helpers/temporal-client';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;
let connection: Connection;
let temporal: Client;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({}, 64));
  connection = await Connection.connect({ address: testInfra().temporalAddress });
  temporal = testTemporalClient(connection);
});

afterAll(async () => {
  await connection?.close();
  await stopIntegrationApp({ app, api, db });
});

const claim = (saleId: string, token: string) => api.post(`/v1/sales/${saleId}/reservations`, { token });
const saleCounts = async (saleId: string) => (await api.get(`/v1/sales/${saleId}`)).body;

test('every expired hold releases its unit, and a new shopper can claim it', async () => {
  const sale = await createTestSale(api, { units: 20, holdSeconds: 2 });
  const holders = await Promise.all(Array.from({ length: 20 }, (_, i) => shopperToken(`expiring-${sale.id}-${i}`)));
  const claims = await Promise.all(holders.map((token) => claim(sale.id, token)));
  expect(claims.map((c) => c.status)).toEqual(Array(20).fill(201));

  const latecomer = await shopperToken(`latecomer-${sale.id}`);
  expect((await claim(sale.id, latecomer)).status).toBe(409);

  await waitFor(
    () => saleCounts(sale.id),
    (c) => c.available === 20 && c.held === 0,
    30_000,
    'units released after expiry',
  );
  for (const c of claims) {
    const reservation = await api.get(`/v1/reservations/${c.body.id}`, holders[claims.indexOf(c)]);
    expect(reservation.body.status).toBe('expired');
  }
  // The hold was not cut short: no unit came back before its reservation's expiresAt.
  const { rows } = await db.query<{ early: number }>(
    `select count(*)::int as early from reservations where sale_id = $1 and released_at < expires_at`,
    [sale.id],
  );
  expect(rows[0]!.early).toBe(0);

  const again = await claim(sale.id, latecomer);
  expect(again.status).toBe(201);
  expect(again.body.status).toBe('held');
});

test('cancel releases the unit at once and only the holder or an admin may cancel or read it', async () => {
  const sale = await createTestSale(api, { units: 1 });
  const owner = await shopperToken(`owner-${sale.id}`);
  const stranger = await shopperToken(`stranger-${sale.id}`);
  const held = await claim(sale.id, owner);
  expect(held.status).toBe(201);
  const id = String(held.body.id);

  const peek = await api.get(`/v1/reservations/${id}`, stranger);
  expect(peek.status).toBe(404);
  expect(peek.contentType).toMatch(/^application\/problem\+json/);
  expect((await api.post(`/v1/reservations/${id}/cancel`, { token: stranger })).status).toBe(404);
  expect((await api.get(`/v1/reservations/${id}`, TEST_SECRETS.ADMIN_TOKEN)).body.userId).toBe(`owner-${sale.id}`);
  expect((await api.get(`/v1/reservations/${id}`)).status).toBe(401);

  const cancelled = await api.post(`/v1/reservations/${id}/cancel`, { token: owner });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ id, status: 'cancelled' });
  expect(await saleCounts(sale.id)).toMatchObject({ available: 1, held: 0 });

  const twice = await api.post(`/v1/reservations/${id}/cancel`, { token: owner });
  expect(twice.status).toBe(409);
  expect(String(twice.body.type)).toMatch(/\/invalid-state$/);

  expect((await claim(sale.id, stranger)).status).toBe(201);
  const result = await temporal.workflow.getHandle(reservationWorkflowId(id)).result();
  expect(result).toEqual({ status: 'cancelled', releasedAs: 'cancelled' });
});

test('support staff find reservation workflows by SaleId, ShopperId and ReservationStatus', async () => {
  const sale = await createTestSale(api, { units: 3 });
  const tokens = await Promise.all([0, 1, 2].map((i) => shopperToken(`visible-${sale.id}-${i}`)));
  const ids = (await Promise.all(tokens.map((token) => claim(sale.id, token)))).map((c) => String(c.body.id));
  await api.post(`/v1/reservations/${ids[0]}/cancel`, { token: tokens[0] });

  const list = async (query: string) => {
    const found: string[] = [];
    for await (const execution of temporal.workflow.list({ query })) found.push(execution.workflowId);
    return found.sort();
  };
  const all = await waitFor(
    () => list(`SaleId = "${sale.id}"`),
    (found) => found.length === 3,
    20_000,
    'workflows by SaleId',
  );
  expect(all).toEqual(ids.map(reservationWorkflowId).sort());
  const held = await waitFor(
    () => list(`SaleId = "${sale.id}" AND ReservationStatus = "held"`),
    (found) => found.length === 2,
    20_000,
    'held workflows',
  );
  expect(held).toEqual(ids.slice(1).map(reservationWorkflowId).sort());
  expect(await list(`ShopperId = "visible-${sale.id}-0" AND ReservationStatus = "cancelled"`)).toEqual([
    reservationWorkflowId(ids[0]!),
  ]);
});

test('a sale that has not started answers 425 and holds nothing', async () => {
  const startsAt = new Date(Date.now() + 3_600_000).toISOString();
  const sale = await createTestSale(api, { units: 5, startsAt });
  expect(sale.status).toBe('scheduled');
  const answer = await claim(sale.id, await shopperToken(`early-${sale.id}`));
  expect(answer.status).toBe(425);
  expect(answer.body).toMatchObject({ status: 425, startsAt });
  expect(String(answer.body.type)).toMatch(/\/sale-not-started$/);
  expect(await saleCounts(sale.id)).toMatchObject({ available: 5, held: 0, status: 'scheduled' });
});

test('admin routes need the admin token; bad input is a 400 problem', async () => {
  const body = { sku: 'X', name: 'X', units: 1, priceCents: 100, currency: 'EUR' };
  const shopper = await shopperToken('not-an-admin');
  expect((await api.post('/v1/sales', { body })).status).toBe(401);
  expect((await api.post('/v1/sales', { body, token: shopper })).status).toBe(401);
  const bad = await api.post('/v1/sales', { body: { ...body, units: 0, currency: 'euro' }, token: TEST_SECRETS.ADMIN_TOKEN });
  expect(bad.status).toBe(400);
  expect(bad.contentType).toMatch(/^application\/problem\+json/);
  expect(bad.body).toMatchObject({ status: 400, title: expect.any(String), detail: expect.stringContaining('units') });
  const nul = await api.post('/v1/sales', { body: { ...body, sku: 'X\u0000' }, token: TEST_SECRETS.ADMIN_TOKEN });
  expect(nul.status).toBe(400);
  expect((await api.get('/v1/sales/not-a-uuid')).status).toBe(404);
  expect((await api.get('/v1/sales/6f1c1c8e-9a59-4a8e-b0d5-2f6f4f1f0000')).status).toBe(404);
});

test('sold-out is answered from memory, and a released unit can be claimed at once', async () => {
  const sale = await createTestSale(api, { units: 1 });
  const [holder, waiter] = await Promise.all([shopperToken(`mem-holder-${sale.id}`), shopperToken(`mem-waiter-${sale.id}`)]);
  const held = await claim(sale.id, holder);
  expect(held.status).toBe(201);
  const fromMemory = async () => {
    const text = await (await fetch(`${app.apiUrl}/metrics`)).text();
    const count = (outcome: string) => Number(new RegExp(`claims_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    return { memory: count('sold-out-from-memory'), fastPath: count('sold-out-fast-path') };
  };
  const before = await fromMemory();
  expect((await claim(sale.id, waiter)).status).toBe(409); // from the database, marks the sale
  const second = await claim(sale.id, waiter); // from memory, without Express: this token was verified
  expect(second.status).toBe(409);
  expect(second.contentType).toMatch(/^application\/problem\+json/);
  expect(String(second.body.type)).toMatch(/\/sold-out$/);
  const newcomer = await claim(sale.id, await shopperToken(`mem-newcomer-${sale.id}`)); // unknown token: Express verifies it
  expect(newcomer.status).toBe(409);
  expect(await fromMemory()).toEqual({ memory: before.memory + 1, fastPath: before.fastPath + 1 });

  expect((await api.post(`/v1/reservations/${held.body.id}/cancel`, { token: holder })).status).toBe(200);
  // The release notifies every API process (LISTEN); once it has arrived, a claim reaches the
  // database and wins. Until then the memory answers 409, which changes nothing.
  const won = await waitFor(
    () => claim(sale.id, waiter),
    (answer) => answer.status !== 409,
    10_000,
    'the release notified',
  );
  expect(won.status).toBe(201);
});
