import type { Queryable } from '../pool';
import type { SaleRow } from '../rows';

export async function findSale(db: Queryable, saleId: string): Promise<SaleRow | undefined> {
  const { rows } = await db.query<SaleRow>(
    `select id, sku, name, units, price_cents, currency, starts_at, hold_seconds, stripes
     from sales where id = $1::uuid`,
    [saleId],
  );
  return rows[0];
}
