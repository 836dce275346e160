import type { Queryable } from '../pool';

export interface JoinReport {
  saleId: string;
  processId: string;
  /** The current 10 s window's index by this process's clock, and this process's joins in it and the one before. */
  windowIndex: number;
  current: number;
  previous: number;
}

/*
 * Writes this process's joins of the current and previous window (absolute counts, so a repeat
 * changes nothing) and answers the other processes' joins in the same two windows. Removes its own
 * older rows, and anyone's a minute old (a process that stopped).
 */
export async function reportJoins(db: Queryable, report: JoinReport): Promise<number> {
  const { rows } = await db.query<{ others: number }>({
    name: 'report-pow-joins',
    text: `with mine as (
             insert into pow_join_counts as c (sale_id, window_index, process_id, joins)
             select $1::uuid, t.w, $2::uuid, t.j
             from unnest(array[$3::bigint - 1, $3::bigint], array[$5::int, $4::int]) as t(w, j) where t.j > 0
             on conflict (sale_id, window_index, process_id) do update set joins = excluded.joins
           ), gone as (
             delete from pow_join_counts
             where sale_id = $1::uuid
               and (window_index < $3::bigint - 6 or (process_id = $2::uuid and window_index < $3::bigint - 1))
           )
           select coalesce(sum(joins), 0)::int as others from pow_join_counts
           where sale_id = $1::uuid and window_index >= $3::bigint - 1 and process_id <> $2::uuid`,
    values: [report.saleId, report.processId, report.windowIndex, report.current, report.previous],
  });
  return rows[0]?.others ?? 0;
}
