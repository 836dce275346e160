import type { Pool } from 'pg';
import { withTransaction } from '../pool';
import type { WaitingRoomSettings } from '../../domain/waiting-room';
import type { ReleasePolicy } from '../../domain/reservation';
import type { SaleRow } from '../rows';
import { findSale } from './find-sale';

export interface NewSale {
  id: string;
  sku: string;
  name: string;
  units: number;
  priceCents: number;
  currency: string;
  startsAt: Date;
  holdSeconds: number;
  stripes: number;
  waitingRoom?: WaitingRoomSettings;
  /** `relist` when not given. */
  releasePolicy?: ReleasePolicy;
}

/*
 * The one statement whose cost grows with the request: the pool's per-statement cap (5 s by
 * default) is sized for claims, and a sale of 1,000,000 units (the most the API accepts) took
 * 55 s to insert on the 2-core development box (psql, one `insert … generate_series(1, 1000000)`
 * into `units`), so creation gets its own bound, for this transaction only.
 */
const CREATE_SALE_STATEMENT_TIMEOUT = '180s';

/** Inserts the sale and one row per unit, spread round-robin over the stripes. */
export async function createSale(pool: Pool, sale: NewSale): Promise<SaleRow> {
  return withTransaction(pool, async (client) => {
    await client.query(`set local statement_timeout = '${CREATE_SALE_STATEMENT_TIMEOUT}'`);
    await client.query(
      `insert into sales (id, sku, name, units, price_cents, currency, starts_at, hold_seconds, stripes, release_policy)
       values ($1::uuid, $2::text, $3::text, $4::int, $5::int, $6::text, $7::timestamptz, $8::int, $9::int, $10::text)`,
      [
        sale.id,
        sale.sku,
        sale.name,
        sale.units,
        sale.priceCents,
        sale.currency,
        sale.startsAt,
        sale.holdSeconds,
        sale.stripes,
        sale.releasePolicy ?? 'relist',
      ],
    );
    await client.query(
      `insert into units (sale_id, id, stripe)
       select $1::uuid, n, (n - 1) % $3::int from generate_series(1, $2::int) as n`,
      [sale.id, sale.units, sale.stripes],
    );
    const room = sale.waitingRoom;
    // The row is also the outbox of the sale's admission workflow (worker/admission-relay.ts).
    if (room) {
      await client.query(
        `insert into waiting_rooms (sale_id, admit_per_second, admission_seconds, confirm_seconds, pow_difficulty)
         values ($1::uuid, $2::int, $3::int, $4::int, $5::int)`,
        [sale.id, room.admitPerSecond, room.admissionSeconds, room.confirmSeconds, room.powDifficulty],
      );
    }
    return (await findSale(client, sale.id))!;
  });
}
