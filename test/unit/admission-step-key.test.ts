import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createAdmissionActivities } from '../../activities/admission-activities';
import { createSale } from '../../db/queries/create-sale';
import { insertTicket, queueViolations } from '../../db/queries/queue-tickets';
import { testInfra } from '../helpers/infra-env';

/*
 * The admission step's activity against the run's Postgres: an attempt that committed but whose
 * result was lost is retried with the same key, and the retry must admit nobody a second time.
 */
let pool: Pool;

beforeAll(() => {
  pool = new Pool({ connectionString: testInfra().databaseUrl, max: 2 });
});

afterAll(async () => {
  await pool?.end();
});

async function startedRoom(shoppers: number): Promise<string> {
  const sale = await createSale(pool, {
    id: randomUUID(),
    sku: 'XPHONE-15',
    name: 'XPhone 15',
    units: 20,
    priceCents: 99_900,
    currency: 'EUR',
    startsAt: new Date(Date.now() - 1_000),
    holdSeconds: 300,
    stripes: 1,
    waitingRoom: { admitPerSecond: 2, admissionSeconds: 3_600, confirmSeconds: 3_600, powDifficulty: 0 },
  });
  for (let i = 0; i < shoppers; i++)
    await insertTicket(pool, { id: randomUUID(), saleId: sale.id, shopperId: `s${i}-${sale.id}`, challengeId: randomUUID() });
  return sale.id;
}

const serving = async (saleId: string) =>
  (await pool.query<{ serving: number }>('select serving from waiting_rooms where sale_id = $1', [saleId])).rows[0]!.serving;

test('a step retried with the same key admits nothing more and answers as the first attempt did', async () => {
  const activities = createAdmissionActivities({ pool });
  const saleId = await startedRoom(10);
  expect(await activities.shufflePreQueue({ saleId })).toEqual({ shuffled: true });

  const first = await activities.admitStep({ saleId, budget: 3, stepKey: 1_000 });
  expect(first).toMatchObject({ admitted: 3, serving: 3 });
  const retried = await activities.admitStep({ saleId, budget: 3, stepKey: 1_000 });
  expect(await serving(saleId)).toBe(3);
  expect(retried).toEqual(first);

  // The next step (a greater key) admits again; a late attempt of an older step admits nothing.
  expect(await activities.admitStep({ saleId, budget: 3, stepKey: 2_000 })).toMatchObject({ admitted: 3, serving: 6 });
  await activities.admitStep({ saleId, budget: 3, stepKey: 1_000 });
  expect(await serving(saleId)).toBe(6);
  expect(await queueViolations(pool, saleId)).toEqual([]);
});
