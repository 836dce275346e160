import type { Pool } from 'pg';
import type { KillRecord } from './killer';
import type { Delivery, SlowSmtp } from './slow-smtp';

export interface DuplicateMail {
  key: string;
  /** When each copy was delivered, seconds after the run's start (the kills' clock). */
  atSeconds: number[];
  /**
   * Worker kills while the first copy was on its way (from the longest sink delay plus 2 s before
   * it to 2 s after): a worker killed after the SMTP server took the mail and before the send was
   * recorded loses the record, and the notice is sent again, with the same Message-ID, once its
   * lease lapses (at-least-once). A database outage does not explain a duplicate: the record is
   * retried through it (db/record-after-send.ts).
   */
  killsAtFirstCopy: string[];
  /** Whether every copy carried the same Message-ID, by which a mail client shows it once. */
  sameMessageId: boolean;
}

export interface MailCensus {
  delivered: number;
  /** Distinct notice keys delivered, by kind (the key's last part: `paid`, `hold-reminder`, …). */
  byKind: Record<string, { notices: number; messages: number }>;
  duplicates: number;
  /** Duplicated notices with no worker kill while their first copy was sent, or with two Message-IDs. */
  unexplainedDuplicates: number;
  duplicated: DuplicateMail[];
  /** Notices the database records as sent of which the sink got no copy. */
  sentNotDelivered: string[];
  /** Copies whose key the database does not know. */
  unknownKeys: string[];
  /** Notice rows by state at the end (`sent`, `pending`, `dropped`, `failed`). */
  rowsByState: Record<string, number>;
}

const kindOf = (key: string) => key.slice(key.lastIndexOf(':') + 1);

async function noticeRows(pool: Pool, saleId: string): Promise<Array<{ key: string; state: string }>> {
  const { rows } = await pool.query<{ key: string; state: string }>(
    `select n.subject || ':' || n.kind as key, n.state from notifications n
     where n.sale_id = $1::uuid or n.reservation_id in (select id from reservations where sale_id = $1::uuid)`,
    [saleId],
  );
  return rows;
}

/** After the run: waits (bounded) until no notice of the sale is pending and the sink holds no message. */
export async function waitForMailToDrain(
  pool: Pool,
  smtp: SlowSmtp,
  saleId: string,
  timeoutMs: number,
  say: (message: string) => void,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const pending = (await noticeRows(pool, saleId)).filter((r) => r.state === 'pending').length;
    if (pending === 0 && smtp.inFlight() === 0) return true;
    if (Date.now() > until) {
      say(`mail: ${pending} notices still pending, ${smtp.inFlight()} messages in the sink; counting anyway`);
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
}

/** Copies per notice key, held against the notices the database says it sent. */
export async function mailCensus(
  pool: Pool,
  saleId: string,
  deliveries: readonly Delivery[],
  kills: readonly KillRecord[],
  startedAt: number,
  smtpDelayMs: number,
): Promise<MailCensus> {
  const sendWindowSeconds = (1.5 * smtpDelayMs) / 1000 + 2;
  const rows = await noticeRows(pool, saleId);
  const copies = new Map<string, Delivery[]>();
  for (const delivery of deliveries) copies.set(delivery.key, [...(copies.get(delivery.key) ?? []), delivery]);
  const byKind: MailCensus['byKind'] = {};
  const duplicated: DuplicateMail[] = [];
  for (const [key, mine] of copies) {
    const kind = (byKind[kindOf(key)] ??= { notices: 0, messages: 0 });
    kind.notices++;
    kind.messages += mine.length;
    if (mine.length < 2) continue;
    const atSeconds = mine.map((d) => Math.round((d.atMs - startedAt) / 100) / 10);
    const first = atSeconds[0]!;
    duplicated.push({
      key,
      atSeconds,
      killsAtFirstCopy: kills
        .filter((k) => k.target === 'worker' && k.atSeconds >= first - sendWindowSeconds && k.atSeconds <= first + 2)
        .map((k) => `${k.target} at ${k.atSeconds.toFixed(1)} s`),
      sameMessageId: new Set(mine.map((d) => d.messageId)).size === 1,
    });
  }
  const known = new Set(rows.map((r) => r.key));
  const rowsByState: Record<string, number> = {};
  for (const row of rows) rowsByState[row.state] = (rowsByState[row.state] ?? 0) + 1;
  return {
    delivered: deliveries.length,
    unexplainedDuplicates: duplicated.filter((d) => d.killsAtFirstCopy.length === 0 || !d.sameMessageId).length,
    byKind,
    duplicates: duplicated.reduce((n, d) => n + d.atSeconds.length - 1, 0),
    duplicated,
    sentNotDelivered: rows.filter((r) => r.state === 'sent' && !copies.has(r.key)).map((r) => r.key),
    unknownKeys: [...copies.keys()].filter((key) => !known.has(key)),
    rowsByState,
  };
}
