import { randomUUID } from 'node:crypto';
import { Pool, type QueryConfig } from 'pg';
import { claimReservation, type ClaimOutcome } from '../../api/services/claim-reservation';
import { createSale } from '../../db/queries/create-sale';
import { testInfra } from '../helpers/infra-env';

let pool: Pool;
/** How many claims each batched statement carried (its reservation-id array), from the pool's own traffic. */
const batchSizes: number[] = [];

beforeAll(() => {
  pool = new Pool({ connectionString: testInfra().databaseUrl, max: 10 });
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: typeof query }).query = (...args: unknown[]) => {
    const config = args[0] as QueryConfig;
    if (config.name === 'claim-units') batchSizes.push((config.values![3] as string[]).length);
    return query(...args);
  };
});

afterAll(async () => {
  await pool.end();
});

async function newSale(units: number) {
  return createSale(pool, {
    id: randomUUID(),
    sku: 'BATCH',
    name: 'batched claims',
    units,
    priceCents: 100,
    currency: 'EUR',
    startsAt: new Date(Date.now() - 1_000),
    holdSeconds: 300,
    stripes: 8,
  });
}

test('500 concurrent claims, repeated shoppers and replayed keys among them, on 200 units: one unit per winning shopper, replays identical', async () => {
  const sale = await newSale(200);
  const deps = { pool, soldOut: { isSoldOut: () => false } };
  const asks: Array<{ shopperId: string; idempotencyKey: string | null }> = [
    ...Array.from({ length: 300 }, (_, i) => ({ shopperId: `single-${i}`, idempotencyKey: null })),
    ...Array.from({ length: 150 }, (_, i) => ({ shopperId: `thrice-${i % 50}`, idempotencyKey: null })),
    ...Array.from({ length: 50 }, (_, i) => ({ shopperId: `keyed-${i % 25}`, idempotencyKey: `key-${i % 25}` })),
  ];
  // Interleaved, so a shopper's claims land in the same and in different batches.
  asks.sort(() => Math.random() - 0.5);
  batchSizes.length = 0;
  const outcomes = await Promise.all(asks.map((ask) => claimReservation(deps, { sale, ...ask })));

  const byShopper = new Map<string, ClaimOutcome[]>();
  asks.forEach((ask, i) => byShopper.set(ask.shopperId, [...(byShopper.get(ask.shopperId) ?? []), outcomes[i]!]));

  const fresh = outcomes.filter((o) => o.kind === 'reserved' && !o.replayed);
  expect(fresh).toHaveLength(200);
  const reservations = fresh.map((o) => (o.kind === 'reserved' ? o.reservation : null)!);
  expect(new Set(reservations.map((r) => r.unit_id)).size).toBe(200);
  expect(new Set(reservations.map((r) => r.user_id)).size).toBe(200);

  for (const [shopperId, answers] of byShopper) {
    const won = answers.filter((o) => o.kind === 'reserved' && !o.replayed);
    expect(won.length).toBeLessThanOrEqual(1);
    if (won.length === 0) {
      // Nobody claimed for this shopper, so every answer is sold out.
      expect(answers.map((o) => o.kind)).toEqual(answers.map(() => 'sold-out'));
      continue;
    }
    const winner = won[0]!.kind === 'reserved' ? won[0]!.reservation : null;
    expect(winner!.user_id).toBe(shopperId);
    for (const other of answers.filter((o) => o !== won[0])) {
      if (shopperId.startsWith('keyed-')) expect(other).toEqual({ kind: 'reserved', reservation: winner, replayed: true });
      else expect(other).toEqual({ kind: 'already-reserved', reservationId: winner!.id });
    }
  }

  const { rows } = await pool.query<{ available: number; held: number; live: number; mismatched: number }>(
    `select (select count(*)::int from units where sale_id = $1 and status = 'available') as available,
            (select count(*)::int from units where sale_id = $1 and status = 'held') as held,
            (select count(*)::int from reservations where sale_id = $1 and status = 'held') as live,
            (select count(*)::int from units u join reservations r on r.id = u.reservation_id
              where u.sale_id = $1 and (r.unit_id <> u.id or r.user_id is null)) as mismatched`,
    [sale.id],
  );
  expect(rows[0]).toEqual({ available: 0, held: 200, live: 200, mismatched: 0 });
  // The claims did go out together, not one statement each.
  expect(Math.max(0, ...batchSizes)).toBeGreaterThan(1);
});

test('20 concurrent claims of one shopper: one unit, and 19 answers naming it', async () => {
  const sale = await newSale(50);
  const deps = { pool, soldOut: { isSoldOut: () => false } };
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, () => claimReservation(deps, { sale, shopperId: 'greedy', idempotencyKey: null })),
  );
  const won = outcomes.filter((o) => o.kind === 'reserved');
  expect(won).toHaveLength(1);
  const reservationId = won[0]!.kind === 'reserved' ? won[0]!.reservation.id : '';
  expect(outcomes.filter((o) => o !== won[0])).toEqual(
    Array.from({ length: 19 }, () => ({ kind: 'already-reserved', reservationId })),
  );
});

test('a lone claim goes straight out as the single-claim statement', async () => {
  const sale = await newSale(3);
  batchSizes.length = 0;
  const outcome = await claimReservation(
    { pool, soldOut: { isSoldOut: () => false } },
    { sale, shopperId: 'alone', idempotencyKey: null },
  );
  expect(outcome).toMatchObject({ kind: 'reserved', replayed: false, reservation: { user_id: 'alone', status: 'held' } });
  expect(batchSizes).toEqual([]);
});
