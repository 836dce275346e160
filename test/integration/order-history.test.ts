import { LIST_SHOPPER_ORDERS } from '../../db/queries/list-shopper-orders';
import type { OrderPage, OrderView } from '../../domain/order-history';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled } from '../helpers/payments';
import { createTestSale } from '../helpers/sales';

/*
 * GET /v1/me/reservations against the real API: one shopper's reservations in three sales come
 * back newest first, page by page through the cursor, each exactly once and no one else's; the
 * refusals are problem+json; and the query's plans are a range scan of
 * reservations_by_shopper_newest with no sort.
 */
let app: AppUnderTest;
let api: ApiClient;
let db: IntegrationApp['db'];
const run = Date.now().toString(36);

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({}, 8));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

async function claim(saleId: string, token: string): Promise<string> {
  const answer = await api.post<{ id: string }>(`/v1/sales/${saleId}/reservations`, { token });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

async function cancel(reservationId: string, token: string): Promise<void> {
  expect((await api.post(`/v1/reservations/${reservationId}/cancel`, { token })).status).toBe(200);
}

/** Every page with `limit`, following nextCursor to the end. */
async function allPages(token: string, limit: number): Promise<OrderPage[]> {
  const pages: OrderPage[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const answer = await api.get<OrderPage>(`/v1/me/reservations${query}`, token);
    expect(answer.status).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    pages.push(answer.body);
    cursor = answer.body.nextCursor;
    expect(pages.length).toBeLessThan(50);
  } while (cursor);
  return pages;
}

test('a shopper sees their reservations across sales newest first, paged by the cursor, and nobody else’s', async () => {
  const shopper = `history-${run}`;
  const other = `history-other-${run}`;
  const [token, otherToken] = await Promise.all([shopperToken(shopper), shopperToken(other)]);
  const phones = await createTestSale(api, { name: 'History Phones', units: 3, priceCents: 49_900 });
  const tablets = await createTestSale(api, { name: 'History Tablets', units: 3, priceCents: 25_000 });
  const watches = await createTestSale(api, { name: 'History Watches', units: 3 });

  // Oldest first, the other shopper's claims in between: a paid phone, three cancelled tablets
  // and a held one, a held watch.
  const created: string[] = [];
  created.push(await claim(phones.id, token));
  await claim(phones.id, otherToken);
  const pay = await api.post(`/v1/reservations/${created[0]}/payment`, { token, body: { paymentMethod: 'tok_visa' } });
  expect(pay.status).toBe(202);
  expect((await waitUntilSettled(api, created[0]!, token)).status).toBe('paid');
  for (let i = 0; i < 3; i++) {
    created.push(await claim(tablets.id, token));
    await cancel(created.at(-1)!, token);
  }
  created.push(await claim(tablets.id, token));
  await claim(watches.id, otherToken);
  created.push(await claim(watches.id, token));
  const newestFirst = [...created].reverse();

  const pages = await allPages(token, 2);
  expect(pages.map((page) => page.items.length)).toEqual([2, 2, 2]);
  expect(pages.at(-1)!.nextCursor).toBeNull();
  const items = pages.flatMap((page) => page.items);
  expect(items.map((item) => item.id)).toEqual(newestFirst);
  // One page as large as the history says the same.
  expect((await allPages(token, 100))[0]!.items.map((item) => item.id)).toEqual(newestFirst);

  const byId = new Map(items.map((item) => [item.id, item]));
  expect(byId.get(created[0]!)).toMatchObject<Partial<OrderView>>({
    saleId: phones.id,
    saleName: 'History Phones',
    status: 'paid',
    priceCents: 49_900,
    currency: 'EUR',
    payment: { status: 'captured', capturedCents: 49_900, refundedCents: 0 },
    endedAt: null,
  });
  expect(Date.parse(byId.get(created[0]!)!.paidAt!)).toBeGreaterThanOrEqual(Date.parse(byId.get(created[0]!)!.createdAt));
  for (const id of created.slice(1, 4)) {
    const item = byId.get(id)!;
    expect(item).toMatchObject({ saleId: tablets.id, saleName: 'History Tablets', status: 'cancelled', paidAt: null });
    expect(item.payment).toBeUndefined();
    expect(Date.parse(item.endedAt!)).toBeGreaterThanOrEqual(Date.parse(item.createdAt));
  }
  expect(byId.get(created[4]!)).toMatchObject({ saleName: 'History Tablets', status: 'held', paidAt: null, endedAt: null });
  expect(byId.get(created[5]!)).toMatchObject({ saleName: 'History Watches', status: 'held', priceCents: 99_900 });
  expect(Date.parse(byId.get(created[5]!)!.expiresAt)).toBeGreaterThan(Date.parse(byId.get(created[5]!)!.createdAt));

  // The other shopper sees their two, none of these; a stranger sees an empty history.
  const theirs = (await allPages(otherToken, 10)).flatMap((page) => page.items);
  expect(theirs).toHaveLength(2);
  expect(theirs.every((item) => !created.includes(item.id))).toBe(true);
  const stranger = await api.get<OrderPage>('/v1/me/reservations', await shopperToken(`history-nobody-${run}`));
  expect(stranger.body).toEqual({ items: [], nextCursor: null });

  // A cursor is a position, not a grant: another shopper's cursor pages through their own list.
  const foreign = await api.get<OrderPage>(`/v1/me/reservations?cursor=${encodeURIComponent(pages[0]!.nextCursor!)}`, otherToken);
  expect(foreign.status).toBe(200);
  expect(foreign.body.items.every((item) => !created.includes(item.id))).toBe(true);
});

test('reservations created in the same microsecond are ordered by id and each paged once', async () => {
  const shopper = `history-ties-${run}`;
  const token = await shopperToken(shopper);
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push(await claim((await createTestSale(api, { units: 1 })).id, token));
  // The API cannot make two claims of one shopper in the same microsecond; the database can.
  await db.query(`update reservations set created_at = '2026-01-01T00:00:00.123456Z' where id = any($1::uuid[])`, [ids]);
  const pages = await allPages(token, 1);
  expect(pages.flatMap((page) => page.items.map((item) => item.id))).toEqual([...ids].sort().reverse());
  expect(pages.flatMap((page) => page.items.map((item) => item.createdAt))).toEqual(Array(3).fill('2026-01-01T00:00:00.123Z'));
});

test('no token, the admin token, a bad cursor or limit: problem+json, 401 or 400', async () => {
  const token = await shopperToken(`history-refused-${run}`);
  const expectProblem = async (path: string, status: number, bearer?: string) => {
    const answer = await api.get(path, bearer);
    expect(`${path}: ${answer.status} ${answer.contentType}`).toBe(`${path}: ${status} application/problem+json; charset=utf-8`);
    expect(answer.body).toMatchObject({ status, type: expect.stringMatching(/^https:\/\/flash-sale\.example\/problems\//) });
  };
  await expectProblem('/v1/me/reservations', 401);
  await expectProblem('/v1/me/reservations', 401, TEST_SECRETS.ADMIN_TOKEN);
  const encoded = (text: string) => Buffer.from(text).toString('base64url');
  const badCursors = [
    'not-a-cursor!',
    encoded('hello'),
    encoded('2026-02-30T00:00:00.000000Z~00000000-0000-0000-0000-000000000000'),
    encoded('2026-01-01T25:00:00.000000Z~00000000-0000-0000-0000-000000000000'),
    encoded('0000-01-01T00:00:00.000000Z~00000000-0000-0000-0000-000000000000'),
    encoded('2026-01-01T00:00:00.000000Z~not-a-uuid'),
    'x'.repeat(300),
  ];
  for (const cursor of badCursors) await expectProblem(`/v1/me/reservations?cursor=${cursor}`, 400, token);
  for (const limit of ['0', '101', '1.5', 'ten', '']) await expectProblem(`/v1/me/reservations?limit=${limit}`, 400, token);
  await expectProblem('/v1/me/reservations?limit=1&limit=2', 400, token);
  await expectProblem('/v1/me/reservations?shopper=someone-else', 400, token);
  const good = encoded('2026-01-01T00:00:00.000000Z~00000000-0000-0000-0000-000000000000');
  expect((await api.get(`/v1/me/reservations?cursor=${good}`, token)).status).toBe(200);
});

interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}
const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)];

/**
 * The statement's plan; with `withoutNestedLoops`, of a planner pushed to any other join (as one
 * that expects few rows may choose a hash join), which must still find no other plan.
 */
async function plan(sql: string, values: unknown[] | undefined, withoutNestedLoops: boolean): Promise<PlanNode[]> {
  const client = await db.connect();
  try {
    await client.query('begin');
    if (withoutNestedLoops) await client.query('set local enable_nestloop = off');
    // GENERIC_PLAN (Postgres 16+): the plan a prepared statement may keep for any parameters.
    const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `explain (${values ? '' : 'generic_plan, '}format json) ${sql}`,
      values,
    );
    return planNodes(rows[0]!['QUERY PLAN'][0]!.Plan);
  } finally {
    await client.query('rollback');
    client.release();
  }
}

test('both statements are a range scan of reservations_by_shopper_newest, with no sort, whatever join the planner prefers', async () => {
  const shopper = `history-${run}`;
  const newest = await db.query<{ created_at: string; id: string }>(
    `select created_at::text, id from reservations where user_id = $1 order by created_at desc limit 1`,
    [shopper],
  );
  const cases: Array<[string, string, unknown[] | undefined, RegExp]> = [
    ['first page, generic', LIST_SHOPPER_ORDERS.first, undefined, /^\(user_id = \$1\)$/],
    [
      'next page, generic',
      LIST_SHOPPER_ORDERS.after,
      undefined,
      /^\(\(user_id = \$1\) AND \(ROW\(created_at, id\) < ROW\(\$3, \$4\)\)\)$/,
    ],
    ['first page, this shopper', LIST_SHOPPER_ORDERS.first, [shopper, 3], /^\(user_id = /],
    [
      'next page, this shopper',
      LIST_SHOPPER_ORDERS.after,
      [shopper, 3, newest.rows[0]!.created_at, newest.rows[0]!.id],
      /ROW\(created_at, id\) < ROW\(/,
    ],
  ];
  for (const [what, sql, values, indexCond, withoutNestedLoops] of cases.flatMap(([what, ...rest]) => [
    [what, ...rest, false] as const,
    [`${what}, no nested loops`, ...rest, true] as const,
  ])) {
    const nodes = await plan(sql, values, withoutNestedLoops);
    const scan = nodes.find((node) => node['Index Name'] === 'reservations_by_shopper_newest');
    expect(`${what}: ${scan?.['Node Type']}`).toBe(`${what}: Index Scan`);
    expect(scan!['Index Cond']).toMatch(indexCond);
    expect(`${what}: ${nodes.map((node) => node['Node Type']).filter((type) => /Sort/.test(type))}`).toBe(`${what}: `);
    // The reservations are read through the index only, never scanned whole.
    expect(nodes.filter((node) => node['Relation Name'] === 'reservations' && node !== scan)).toEqual([]);
  }
});
