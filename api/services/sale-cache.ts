import type { Pool } from 'pg';
import { findSale } from '../../db/queries/find-sale';
import type { SaleRow } from '../../db/rows';

/**
 * Sales never change once created, so a claim need not read them from Postgres every time.
 * Misses are not cached: a sale created after a 404 is found on the next request (a request
 * that arrives while a read of the same sale is in flight shares that read).
 */
export function createSaleCache(pool: Pool, maxEntries = 10_000) {
  const sales = new Map<string, SaleRow>();
  // One read per sale at a time: a crowd arriving before the sale is cached waits for the same
  // read instead of queueing one each for the pool's connections.
  const reading = new Map<string, Promise<SaleRow | undefined>>();

  async function read(saleId: string): Promise<SaleRow | undefined> {
    const sale = await findSale(pool, saleId);
    if (sale) {
      if (sales.size >= maxEntries) sales.delete(sales.keys().next().value!);
      sales.set(saleId, sale);
    }
    return sale;
  }

  return {
    /** The sale if it is cached already, without reading Postgres (for the fast paths in front of Express). */
    peek(saleId: string): SaleRow | undefined {
      return sales.get(saleId);
    },
    async get(saleId: string): Promise<SaleRow | undefined> {
      const cached = sales.get(saleId);
      if (cached) return cached;
      let pending = reading.get(saleId);
      if (!pending) {
        pending = read(saleId).finally(() => reading.delete(saleId));
        reading.set(saleId, pending);
      }
      return pending;
    },
  };
}

export type SaleCache = ReturnType<typeof createSaleCache>;
