/*
 * Phase a: claim statements straight through the application's pool (db/pool.ts), no HTTP.
 * Five ways to take one unit, each on freshly loaded data, at several numbers of concurrent
 * claimers, for a fixed time. Runs before the API and the worker exist, so it may truncate
 * the tables between cases and nobody else touches the database while it measures.
 *
 * - stock-row, textbook-skip-locked: one autocommit statement each, the classic flips.
 * - seed-stock-tx, seed-skip-locked-tx: the seed design's claim transactions exactly as written,
 *   one round trip per statement on one pooled client: BEGIN; SELECT … FOR UPDATE; UPDATE;
 *   INSERT INTO cart; COMMIT (the stock row, then the first available unit ORDER BY id with
 *   SKIP LOCKED).
 * - ours-striped: the application's claim: api/services/claim-batcher.ts over db/queries/claim-unit.ts
 *   (a claim alone) and db/queries/claim-units.ts (the claims that arrived while others were in flight).
 */
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { claimBatcherFor } from '../api/services/claim-batcher';
import { createPool } from '../db/pool';
import { createSale } from '../db/queries/create-sale';

export const CLAIM_STRATEGIES = [
  'stock-row',
  'textbook-skip-locked',
  'seed-stock-tx',
  'seed-skip-locked-tx',
  'ours-striped',
] as const;
export type ClaimStrategy = (typeof CLAIM_STRATEGIES)[number];

export interface ClaimCase {
  strategy: ClaimStrategy;
  concurrency: number;
  claims: number;
  seconds: number;
  claimsPerSecond: number;
  /** Claims/s in the last fifth of the run ÷ in the first fifth: below 1 the strategy slows down as it runs. */
  decay: number | null;
  /** Statements that found nothing to claim (should stay 0: the pools are sized not to run out). */
  empty: number;
  errors: number;
  firstError?: string;
}

export interface ClaimOptions {
  databaseUrl: string;
  concurrencies: number[];
  durationMs: number;
  units: number;
  stripes: number;
  say: (message: string) => void;
}

const STOCK_CLAIM = 'update bench_stock set qty = qty - 1 where id = 1 and qty > 0 returning qty';

const TEXTBOOK_CLAIM = `update units set status = 'held', reservation_id = $2::uuid
where (sale_id, id) = (
  select sale_id, id from units where sale_id = $1::uuid and status = 'available'
  order by id limit 1 for update skip locked)
returning id`;

/*
 * The textbook statement orders by id, which the project's index (sale_id, stripe, id) cannot
 * serve; without an index of its own it would sort the whole sale per claim. It gets the index
 * a textbook schema would have, and only while it is measured, so ours does not pay to maintain it.
 */
const TEXTBOOK_INDEX = `create index bench_units_head on units (sale_id, id) where status = 'available'`;

/* The seed design's transactions, one statement per round trip. */
const SEED_CART = `create table bench_cart (
  id bigserial primary key, item_id integer, unit_id integer, shopper_id text not null, created_at timestamptz not null default now())`;
const SEED_STOCK_SELECT = 'select quantity from bench_items where id = 1 for update';
const SEED_STOCK_UPDATE = 'update bench_items set quantity = quantity - 1 where id = 1';
const SEED_STOCK_CART = 'insert into bench_cart (item_id, shopper_id) values (1, $1)';
const SEED_UNIT_SELECT = `select id from units where sale_id = $1::uuid and status = 'available'
order by id limit 1 for update skip locked`;
const SEED_UNIT_UPDATE = `update units set status = 'held', reservation_id = $2::uuid where sale_id = $1::uuid and id = $3`;
const SEED_UNIT_CART = 'insert into bench_cart (unit_id, shopper_id) values ($1, $2)';

/** BEGIN; steps; COMMIT (ROLLBACK when the steps found nothing), each a round trip on one pooled client. */
async function inTransaction(pool: Pool, steps: (client: PoolClient) => Promise<boolean>): Promise<boolean> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const claimed = await steps(client);
    await client.query(claimed ? 'commit' : 'rollback');
    client.release();
    return claimed;
  } catch (error) {
    client.release(error instanceof Error ? error : new Error(String(error))); // discarded: state unknown
    throw error;
  }
}

type ClaimOnce = (pool: Pool, worker: number, call: number) => Promise<boolean>;

/** Below this a case is too short for its first and last fifths to say anything about decay. */
const DECAY_MIN_MS = 10_000;

async function prepare(admin: Pool, strategy: ClaimStrategy, options: ClaimOptions): Promise<ClaimOnce> {
  await admin.query('truncate reservations, units, sales cascade');
  await admin.query('drop table if exists bench_stock, bench_items, bench_cart');
  await admin.query('drop index if exists bench_units_head');
  const newSale = (stripes: number) =>
    createSale(admin, {
      id: randomUUID(),
      sku: 'BENCH',
      name: `bench ${strategy}`,
      units: options.units,
      priceCents: 100,
      currency: 'EUR',
      startsAt: new Date(Date.now() - 1_000),
      holdSeconds: 300,
      stripes,
    });

  let claim: ClaimOnce;
  if (strategy === 'stock-row') {
    await admin.query('create table bench_stock (id integer primary key, qty bigint not null)');
    await admin.query('insert into bench_stock values (1, 1000000000000)');
    claim = async (pool) => (await pool.query({ name: 'bench-stock', text: STOCK_CLAIM })).rowCount === 1;
  } else if (strategy === 'seed-stock-tx') {
    await admin.query('create table bench_items (id integer primary key, quantity bigint not null)');
    await admin.query('insert into bench_items values (1, 1000000000000)');
    await admin.query(SEED_CART);
    claim = (pool, worker, call) =>
      inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ quantity: string }>({ name: 'seed-stock-select', text: SEED_STOCK_SELECT });
        if (!rows[0] || Number(rows[0].quantity) <= 0) return false;
        await client.query({ name: 'seed-stock-update', text: SEED_STOCK_UPDATE });
        await client.query({ name: 'seed-stock-cart', text: SEED_STOCK_CART, values: [`bench-${worker}-${call}`] });
        return true;
      });
  } else if (strategy === 'seed-skip-locked-tx') {
    const sale = await newSale(1);
    await admin.query(TEXTBOOK_INDEX);
    await admin.query(SEED_CART);
    claim = (pool, worker, call) =>
      inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ id: number }>({
          name: 'seed-unit-select',
          text: SEED_UNIT_SELECT,
          values: [sale.id],
        });
        if (!rows[0]) return false;
        const unitId = rows[0].id;
        await client.query({ name: 'seed-unit-update', text: SEED_UNIT_UPDATE, values: [sale.id, randomUUID(), unitId] });
        await client.query({ name: 'seed-unit-cart', text: SEED_UNIT_CART, values: [unitId, `bench-${worker}-${call}`] });
        return true;
      });
  } else if (strategy === 'textbook-skip-locked') {
    const sale = await newSale(1);
    await admin.query(TEXTBOOK_INDEX);
    claim = async (pool) =>
      (await pool.query({ name: 'bench-textbook', text: TEXTBOOK_CLAIM, values: [sale.id, randomUUID()] })).rowCount === 1;
  } else {
    const sale = await newSale(options.stripes);
    // The API's claim path: one batcher per pool (api/services/claim-reservation.ts), so claims
    // that arrive while statements are in flight go out together.
    claim = async (pool, worker, call) => {
      const result = await claimBatcherFor(pool).claim({
        reservationId: randomUUID(),
        saleId: sale.id,
        userId: `bench-${worker}-${call}`,
        idempotencyKey: null,
        holdSeconds: sale.hold_seconds,
        stripes: sale.stripes,
      });
      return result.kind === 'claimed';
    };
  }
  // Fresh data for every case: statistics, a clean visibility map and no checkpoint of the load
  // landing inside the measurement.
  await admin.query('vacuum analyze');
  await admin.query('checkpoint');
  return claim;
}

async function measure(strategy: ClaimStrategy, concurrency: number, claim: ClaimOnce, options: ClaimOptions) {
  const pool = createPool({
    databaseUrl: options.databaseUrl,
    max: concurrency,
    applicationName: 'flash-sale-bench',
    statementTimeoutMs: 10_000,
  });
  try {
    // Connect every client before the clock starts.
    const clients = await Promise.all(Array.from({ length: concurrency }, () => pool.connect()));
    clients.forEach((client) => client.release());

    const result: ClaimCase = {
      strategy,
      concurrency,
      claims: 0,
      seconds: 0,
      claimsPerSecond: 0,
      decay: null,
      empty: 0,
      errors: 0,
    };
    const started = performance.now();
    const deadline = started + options.durationMs;
    const fifth = options.durationMs / 5;
    let firstFifth = 0;
    let lastFifth = 0;
    // Bounded in time and in count: never more statements than the sale has units.
    let calls = 0;
    const loop = async (worker: number) => {
      for (let call = 0; performance.now() < deadline && calls++ < options.units; call++) {
        try {
          if (await claim(pool, worker, call)) {
            result.claims++;
            const at = performance.now();
            if (at < started + fifth) firstFifth++;
            else if (at >= deadline - fifth) lastFifth++;
          } else result.empty++;
        } catch (error) {
          result.errors++;
          result.firstError ??= error instanceof Error ? error.message : String(error);
          if (result.errors > 1_000) return;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, worker) => loop(worker)));
    result.seconds = (performance.now() - started) / 1000;
    result.claimsPerSecond = Math.round(result.claims / result.seconds);
    // Only for runs long enough that the first fifth is not mostly warm-up (full mode), and that
    // lasted their full time (not cut short by running out of units).
    if (options.durationMs >= DECAY_MIN_MS && firstFifth > 0 && result.seconds * 1000 >= options.durationMs) {
      result.decay = Math.round((lastFifth / firstFifth) * 100) / 100;
    }
    return result;
  } finally {
    await pool.end();
  }
}

export async function benchClaims(options: ClaimOptions): Promise<ClaimCase[]> {
  const admin = createPool({
    databaseUrl: options.databaseUrl,
    max: 2,
    applicationName: 'flash-sale-bench-admin',
    statementTimeoutMs: 600_000,
  });
  const cases: ClaimCase[] = [];
  try {
    // Concurrency outermost: the cases compared in one ratio run close together in time.
    for (const concurrency of options.concurrencies) {
      for (const strategy of CLAIM_STRATEGIES) {
        options.say(`${strategy} × ${concurrency}: loading fresh data`);
        const claim = await prepare(admin, strategy, options);
        options.say(`${strategy} × ${concurrency}: claiming for ${options.durationMs / 1000} s`);
        const result = await measure(strategy, concurrency, claim, options);
        const problems = result.errors ? `, ${result.errors} errors (${result.firstError})` : '';
        options.say(`${strategy} × ${concurrency}: ${result.claimsPerSecond} claims/s${problems}`);
        cases.push(result);
      }
    }
    await admin.query('truncate reservations, units, sales cascade');
    await admin.query('drop table if exists bench_stock, bench_items, bench_cart');
    await admin.query('drop index if exists bench_units_head');
  } finally {
    await admin.end();
  }
  return cases;
}

/** ours ÷ other at one concurrency, or null when either was not measured. */
export function claimRatio(cases: ClaimCase[], concurrency: number, other: ClaimStrategy): number | null {
  const find = (strategy: ClaimStrategy) => cases.find((c) => c.strategy === strategy && c.concurrency === concurrency);
  const ours = find('ours-striped');
  const base = find(other);
  if (!ours || !base || base.claimsPerSecond === 0) return null;
  return Math.round((ours.claimsPerSecond / base.claimsPerSecond) * 100) / 100;
}
