import type { Pool } from 'pg';
import { findSale } from '../../db/queries/find-sale';
import type { SaleRow } from '../../db/rows';

/**
 * Sales never change once created, so a claim need not read them from Postgres every time.
 * Misses are not cached: a sale created after a 404 is found on the next request.
 */
export function createSaleCache(pool: Pool, maxEntries = 10_000) {
  const sales = new Map<string, SaleRow>();
  return {
    /** The sale if it is cached already, without reading Postgres (for the fast paths in front of Express). */
    peek(saleId: string): SaleRow | undefined {
      return sales.get(saleId);
    },
    async get(saleId: string): Promise<SaleRow | undefined> {
      const cached = sales.get(saleId);
      if (cached) return cached;
      const sale = await findSale(pool, saleId);
      if (sale) {
        if (sales.size >= maxEntries) sales.delete(sales.keys().next().value!);
        sales.set(saleId, sale);
      }
      return sale;
    },
  };
}

export type SaleCache = ReturnType<typeof createSaleCache>;
