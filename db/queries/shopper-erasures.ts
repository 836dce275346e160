import type { Queryable } from '../pool';

export interface ErasureRow {
  pseudonym: string;
  state: 'started' | 'done';
  attempts: number;
  /** Counts by step, added up over the attempts (`erase-shopper-rows.ts`, `addErasedWorkflows`). */
  erased: Record<string, number>;
  started_at: Date;
  finished_at: Date | null;
}

const COLUMNS = 'pseudonym, state, attempts, erased, started_at, finished_at';

export async function findErasure(db: Queryable, pseudonym: string): Promise<ErasureRow | undefined> {
  const { rows } = await db.query<ErasureRow>(`select ${COLUMNS} from shopper_erasures where pseudonym = $1::text`, [pseudonym]);
  return rows[0];
}

/**
 * Records that an erasure runs, before any of its steps: a new row, or the row of an earlier
 * attempt (a crash half way, a refusal) or of an earlier erasure (the shopper came back since),
 * counted as one more attempt and `started` again.
 */
export async function beginErasure(db: Queryable, pseudonym: string): Promise<ErasureRow> {
  const { rows } = await db.query<ErasureRow>(
    `insert into shopper_erasures (pseudonym) values ($1::text)
     on conflict (pseudonym) do update
       set attempts = shopper_erasures.attempts + 1, state = 'started', finished_at = null
     returning ${COLUMNS}`,
    [pseudonym],
  );
  return rows[0]!;
}

/** Marks the erasure done once its last step has run; a second call changes nothing. */
export async function finishErasure(db: Queryable, pseudonym: string): Promise<ErasureRow> {
  const { rows } = await db.query<ErasureRow>(
    `update shopper_erasures set state = 'done', finished_at = coalesce(finished_at, now())
     where pseudonym = $1::text
     returning ${COLUMNS}`,
    [pseudonym],
  );
  return rows[0]!;
}

/** Adds the Temporal executions deleted by one attempt to the erasure's counts. */
export async function addErasedWorkflows(db: Queryable, pseudonym: string, deleted: number): Promise<void> {
  await db.query(
    `update shopper_erasures
     set erased = erased || jsonb_build_object('workflows', coalesce((erased->>'workflows')::int, 0) + $2::int)
     where pseudonym = $1::text`,
    [pseudonym, deleted],
  );
}
