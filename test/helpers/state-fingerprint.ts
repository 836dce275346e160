import type { Pool } from 'pg';

/** Every table a request could change, in dependency order. */
const TABLES = [
  'sales',
  'units',
  'reservations',
  'waitlist_entries',
  'payment_attempts',
  'charges',
  'webhook_events',
  'notifications',
] as const;

/*
 * Only rows a request could make: the clock makes the others, since the workers' notification dispatcher reminds every hold in
 * its last minute, including holds earlier test files left behind (migrations/0007: dispatched
 * notices have a `next_attempt_at`, outcome notices do not).
 */
const REQUEST_DRIVEN_ROWS: Partial<Record<(typeof TABLES)[number], string>> = {
  notifications: 'where t.next_attempt_at is null',
};

export interface StateFingerprint {
  tables: Record<string, { rows: number; md5: string }>;
  /** The payment simulator's ledger (charges, refunds, webhook and fault counters), as JSON. */
  ledger: string;
}

/** An md5 over every row of every table (rows sorted by their text form) and the simulator's ledger. */
export async function stateFingerprint(db: Pool, pspUrl: string): Promise<StateFingerprint> {
  const tables: StateFingerprint['tables'] = {};
  for (const table of TABLES) {
    const { rows } = await db.query<{ rows: number; md5: string }>(
      `select count(*)::int as rows, md5(coalesce(string_agg(t::text, E'\\n' order by t::text), '')) as md5 from ${table} t ${REQUEST_DRIVEN_ROWS[table] ?? ''}`,
    );
    tables[table] = rows[0]!;
  }
  const response = await fetch(`${pspUrl}/v1/ledger`);
  return { tables, ledger: await response.text() };
}

/** Resolves once two fingerprints `quietMs` apart are equal: background work (relay, webhooks) has settled. */
export async function settledFingerprint(
  db: Pool,
  pspUrl: string,
  quietMs = 1_500,
  timeoutMs = 60_000,
): Promise<StateFingerprint> {
  const deadline = Date.now() + timeoutMs;
  let previous = await stateFingerprint(db, pspUrl);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const current = await stateFingerprint(db, pspUrl);
    if (JSON.stringify(current) === JSON.stringify(previous)) return current;
    if (Date.now() > deadline) throw new Error(`state still changing after ${timeoutMs} ms`);
    previous = current;
  }
}
