import type { Queryable } from '../pool';
import type { SaleRow } from '../rows';

/** The columns of a SaleRow, from `sales s left join waiting_rooms w`. */
export const SALE_COLUMNS = `s.id, s.sku, s.name, s.units, s.price_cents, s.currency, s.starts_at, s.hold_seconds, s.stripes, s.release_policy,
  case when w.sale_id is null then null else json_build_object(
    'admitPerSecond', w.admit_per_second, 'admissionSeconds', w.admission_seconds,
    'confirmSeconds', w.confirm_seconds, 'powDifficulty', w.pow_difficulty
  ) end as waiting_room`;

export async function findSale(db: Queryable, saleId: string): Promise<SaleRow | undefined> {
  const { rows } = await db.query<SaleRow>(
    `select ${SALE_COLUMNS}
     from sales s left join waiting_rooms w on w.sale_id = s.id
     where s.id = $1::uuid`,
    [saleId],
  );
  return rows[0];
}
