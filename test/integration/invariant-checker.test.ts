import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { Pool } from 'pg';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({}, 32));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

interface Report {
  violations: Array<{ invariant: number; detail: string }>;
  counts: Record<string, number>;
  provider: unknown;
  workflows: unknown;
}

const check = async (saleId: string) =>
  (await api.get<Report>(`/v1/admin/sales/${saleId}/invariants`, TEST_SECRETS.ADMIN_TOKEN)).body;

function checkCommand(saleId: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../../scripts/check.ts'), saleId], {
    env: { ...process.env, ...app.env },
    encoding: 'utf8',
  });
}

async function busySale(units: number) {
  const sale = await createTestSale(api, { units });
  const tokens = await Promise.all(Array.from({ length: units }, (_, i) => shopperToken(`checked-${sale.id}-${i}`)));
  const claims = await Promise.all(
    tokens.map((token) => api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token })),
  );
  const methods = ['tok_visa', 'tok_chargeDeclined', 'tok_visa'];
  await Promise.all(
    claims
      .slice(0, 3)
      .map((c, i) =>
        api.post(`/v1/reservations/${c.body.id}/payment`, { token: tokens[i], body: { paymentMethod: methods[i] } }),
      ),
  );
  await Promise.all(claims.slice(0, 3).map((c, i) => waitUntilSettled(api, c.body.id, tokens[i]!)));
  await api.post(`/v1/reservations/${claims[3]!.body.id}/cancel`, { token: tokens[3] });
  return { sale, claims };
}

test('a sale that went through claims, payments, a decline and a cancel passes every check, by route and by command', async () => {
  const { sale } = await busySale(6);
  const report = await check(sale.id);
  expect(report.violations).toEqual([]);
  expect(report.counts).toEqual({ units: 6, available: 2, held: 2, sold: 2, withdrawn: 0 });
  expect(report.provider).toEqual({ captures: 2, refunds: 0 });
  expect(report.workflows).toEqual({ checked: 2 });

  const command = checkCommand(sale.id);
  expect(command.stdout).toContain('all invariants hold');
  expect(command.status).toBe(0);
});

test('the checker names each violation it finds', async () => {
  const { sale, claims } = await busySale(6);
  const [paid, , , cancelled, held, heldToo] = claims.map((c) => c.body.id);
  // A unit both available and held by an open reservation (7), a paid reservation whose unit is
  // not sold (3), an open reservation whose workflow does not exist (6).
  await db.query(`update units set status = 'available', reservation_id = null where reservation_id = $1`, [held]);
  await db.query(`update units set status = 'held' where reservation_id = $1`, [paid]);
  await db.query(`update reservations set status = 'held', released_at = null, workflow_started_at = now() where id = $1`, [
    cancelled,
  ]);
  await db.query(
    `update units set status = 'held', reservation_id = $1 where sale_id = $2 and id = (select unit_id from reservations where id = $1)`,
    [cancelled, sale.id],
  );
  await app.api.stop(); // nothing here needs the API; the workflow of `cancelled` is closed, as after a lost release

  const command = checkCommand(sale.id);
  expect(command.status).toBe(1);
  expect(command.stdout).toMatch(new RegExp(`VIOLATION invariant 7: open reservation ${held} but its unit is available`));
  expect(command.stdout).toMatch(new RegExp(`VIOLATION invariant 3: .*${paid}`));
  expect(command.stdout).toMatch(
    new RegExp(`VIOLATION invariant 6: open reservation ${cancelled} but its workflow is COMPLETED`),
  );
  expect(command.stdout).not.toMatch(new RegExp(heldToo!));
  app.api.start();
});
