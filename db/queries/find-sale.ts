import type { Queryable } from '../pool';
import { SALE_COLUMNS, type SaleRow } from '../rows';

export async function findSale(db: Queryable, saleId: string): Promise<SaleRow | undefined> {
  const { rows } = await db.query<SaleRow>(`select ${SALE_COLUMNS} from sales where id = $1::uuid`, [saleId]);
  return rows[0];
}
