import type { Pool } from 'pg';
import { shopperToken, type ApiAnswer, type ApiClient } from '../helpers/api-client';
import { type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor } from '../helpers/sales';

/*
 * The sold-out mark (api/services/sold-out-registry.ts) against units that come back without a
 * `unit_released` notice, e.g. left behind by a claim that rolled back: once the mark lapses, the
 * probe that finds a unit must clear it for everyone, not only for itself.
 */
let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp());
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

const isSoldOut = (a: ApiAnswer) => a.status === 409 && String(a.body.type).endsWith('/sold-out');

test('a probe claim that finds a unit returned without a notice clears the sold-out mark for the other shoppers', async () => {
  const sale = await createTestSale(api, { units: 6 });
  const claim = (token: string) => api.post(`/v1/sales/${sale.id}/reservations`, { token });
  const holders = await Promise.all(Array.from({ length: 6 }, (_, i) => shopperToken(`holder-${i}-${sale.id}`)));
  for (const token of holders) expect((await claim(token)).status).toBe(201);
  const probe = await shopperToken(`probe-${sale.id}`);
  expect(isSoldOut(await claim(probe))).toBe(true); // the claim found no unit: the sale is marked

  // Five units come back with no notice (as when a claim that had them rolled back).
  const returned = await db.query(
    `with back as (
       update units set status = 'available', reservation_id = null
       where sale_id = $1 and id in (select id from units where sale_id = $1 order by id limit 5)
       returning id
     )
     update reservations r set status = 'cancelled', released_at = now()
     from back where r.sale_id = $1 and r.unit_id = back.id`,
    [sale.id],
  );
  expect(returned.rowCount).toBe(5);

  // Refused from memory until the mark lapses; then one claim probes Postgres and gets a unit.
  await waitFor(
    () => claim(probe),
    (answer) => answer.status === 201 || !isSoldOut(answer),
    10_000,
    'the probe claim',
  ).then((answer) => expect(answer.status).toBe(201));

  // Four units are still available: four other shoppers claim them at once.
  const others = await Promise.all(Array.from({ length: 4 }, (_, i) => shopperToken(`after-probe-${i}-${sale.id}`)));
  const answers = await Promise.all(others.map(claim));
  expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201]);
  const { rows } = await db.query<{ available: number }>(
    `select count(*)::int as available from units where sale_id = $1 and status = 'available'`,
    [sale.id],
  );
  expect(rows[0]!.available).toBe(0);
});
