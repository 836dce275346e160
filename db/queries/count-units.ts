import type { Queryable } from '../pool';
import type { UnitCounts } from '../rows';

export async function countUnits(db: Queryable, saleId: string): Promise<UnitCounts> {
  const { rows } = await db.query<UnitCounts>({
    name: 'count-units',
    text: `select count(*) filter (where status = 'available')::int as available,
            count(*) filter (where status = 'held')::int as held,
            count(*) filter (where status = 'sold')::int as sold,
            count(*) filter (where status = 'withdrawn')::int as withdrawn
     from units where sale_id = $1::uuid`,
    values: [saleId],
  });
  return rows[0]!;
}
