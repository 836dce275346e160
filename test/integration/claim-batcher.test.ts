import { randomUUID } from 'node:crypto';
import { Pool, type QueryConfig } from 'pg';
import { isDependencyUnavailable } from '../../api/dependency-errors';
import { ClaimBatcher, ClaimQueueTimeoutError } from '../../api/services/claim-batcher';
import { claimReservation, type ClaimOutcome } from '../../api/services/claim-reservation';
import { claimUnits, PartlyClaimedError } from '../../db/queries/claim-units';
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

/** A claim of `userId` on `sale` through `batcher`, with a fresh reservation id. */
function claimThrough(batcher: ClaimBatcher, sale: { id: string; stripes: number }, userId: string) {
  return batcher.claim({
    reservationId: randomUUID(),
    saleId: sale.id,
    userId,
    idempotencyKey: null,
    holdSeconds: 300,
    stripes: sale.stripes,
  });
}

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

test('a batch that meets a shopper racing through another process rolls back and is redone one by one', async () => {
  const sale = await newSale(10);
  const batcher = new ClaimBatcher(pool, { maxBatch: 64, maxInFlight: 1, maxWaitMs: 5_000 });
  const claim = (userId: string) => claimThrough(batcher, sale, userId);
  // Another process's claim for `racer`, not committed yet: the batch's insert waits on its unique entry.
  const other = await pool.connect();
  const racerReservation = randomUUID();
  try {
    await other.query('begin');
    await other.query(
      `update units set status = 'held', reservation_id = $2 where sale_id = $1 and id = (select min(id) from units where sale_id = $1)`,
      [sale.id, racerReservation],
    );
    await other.query(
      `insert into reservations (id, sale_id, unit_id, user_id, status, expires_at)
       select $2, $1, min(id), 'racer', 'held', now() + interval '5 minutes' from units where sale_id = $1 and reservation_id = $2`,
      [sale.id, racerReservation],
    );
    batchSizes.length = 0;
    const first = claim('first'); // goes out alone
    const rest = Promise.all(['racer', 'second', 'third'].map(claim)); // queued behind it: one batch
    await first;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other.query('commit');
    const results = await rest;
    expect(batchSizes).toEqual([3]);
    expect(results[0]).toEqual({ kind: 'already-reserved', reservationId: racerReservation });
    expect(results.slice(1).map((r) => r.kind)).toEqual(['claimed', 'claimed']);
  } finally {
    other.release();
  }
  const { rows } = await pool.query<{ held: number; live: number }>(
    `select (select count(*)::int from units where sale_id = $1 and status = 'held') as held,
            (select count(*)::int from reservations where sale_id = $1 and status = 'held') as live`,
    [sale.id],
  );
  expect(rows[0]).toEqual({ held: 4, live: 4 });
});

test('claims queued longer than maxWaitMs behind a stuck statement fail as a dependency outage, not a hang', async () => {
  const sale = await newSale(10);
  const stuckPool = new Pool({ connectionString: testInfra().databaseUrl, max: 2, statement_timeout: 1_000 });
  const batcher = new ClaimBatcher(stuckPool, { maxBatch: 64, maxInFlight: 1, maxWaitMs: 200 });
  const blocker = await pool.connect();
  try {
    await blocker.query('begin');
    await blocker.query('lock table units in access exclusive mode');
    const settled = await Promise.allSettled(['a', 'b', 'c'].map((userId) => claimThrough(batcher, sale, userId)));
    const reasons = settled.map((s) => (s.status === 'rejected' ? (s.reason as unknown) : s.value));
    expect(isDependencyUnavailable(reasons[0])).toBe(true); // the statement timeout
    expect(reasons[1]).toBeInstanceOf(ClaimQueueTimeoutError);
    expect(reasons[2]).toBeInstanceOf(ClaimQueueTimeoutError);
    expect(isDependencyUnavailable(reasons[1])).toBe(true);
  } finally {
    await blocker.query('rollback');
    blocker.release();
    await stuckPool.end();
  }
});

test('a racing shopper met by the second statement of a batch leaves the first statement’s claims standing', async () => {
  const sale = await createSale(pool, {
    id: randomUUID(),
    sku: 'BATCH',
    name: 'two stripes',
    units: 4,
    priceCents: 100,
    currency: 'EUR',
    startsAt: new Date(Date.now() - 1_000),
    holdSeconds: 300,
    stripes: 2,
  });
  // Units 2 and 4 are stripe 1. Another process holds unit 4 for `racer`, uncommitted.
  const other = await pool.connect();
  const racerReservation = randomUUID();
  const early = randomUUID();
  try {
    await other.query('begin');
    await other.query(`update units set status = 'held', reservation_id = $2 where sale_id = $1 and id = 4`, [
      sale.id,
      racerReservation,
    ]);
    await other.query(
      `insert into reservations (id, sale_id, unit_id, user_id, status, expires_at)
       values ($2, $1, 4, 'racer', 'held', now() + interval '5 minutes')`,
      [sale.id, racerReservation],
    );
    // Stripe 1 first: `early` gets unit 2, `racer` none; then stripe 0, where racer's insert waits.
    const batch = claimUnits(pool, {
      saleId: sale.id,
      holdSeconds: 300,
      stripes: 2,
      startStripe: 1,
      requests: [
        { reservationId: early, userId: 'early', idempotencyKey: null },
        { reservationId: randomUUID(), userId: 'racer', idempotencyKey: null },
      ],
    });
    const failed = batch.then(
      () => null,
      (error: unknown) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await other.query('commit');
    const error = await failed;
    expect(error).toBeInstanceOf(PartlyClaimedError);
    const partly = error as PartlyClaimedError;
    expect([...partly.settled.keys()]).toEqual([0]);
    expect(partly.settled.get(0)).toMatchObject({ kind: 'claimed', reservation: { id: early, unit_id: 2 } });
  } finally {
    other.release();
  }
  const { rows } = await pool.query<{ id: number; status: string }>(
    'select id, status from units where sale_id = $1 order by id',
    [sale.id],
  );
  expect(rows).toEqual([
    { id: 1, status: 'available' },
    { id: 2, status: 'held' },
    { id: 3, status: 'available' },
    { id: 4, status: 'held' },
  ]);
});
