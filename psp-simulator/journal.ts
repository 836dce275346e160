import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { Charge, Refund } from './types';

export type IdempotencyScope = 'charges' | 'refunds';

/** An answer as first given, replayed byte for byte (status and body) for a repeated key. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotencyRecordData {
  scope: IdempotencyScope;
  key: string;
  fingerprint: string;
  /** The charge or refund this key created; set as soon as it exists. */
  resourceId?: string;
  /** Absent while the outcome is still pending (a tok_slow charge). */
  response?: StoredResponse;
  /** The key was voided before any charge used it: every later charge with it is refused. */
  voided?: true;
}

export type JournalEntry =
  | { kind: 'charge'; charge: Charge }
  | { kind: 'refund'; refund: Refund }
  | { kind: 'idempotency'; record: IdempotencyRecordData };

export interface Journal {
  append(entry: JournalEntry): void;
  close(): void;
}

const noJournal: Journal = { append: () => undefined, close: () => undefined };

/**
 * Append-only JSON lines, one full record per change, last one wins on reload. Writes are
 * synchronous so a record is in the file (the page cache; no fsync) before the answer that
 * depends on it leaves: a restarted PSP then honours every key it ever answered.
 */
export function openJournal(file: string | undefined): { journal: Journal; entries: JournalEntry[] } {
  if (!file) return { journal: noJournal, entries: [] };
  const entries = existsSync(file) ? parseJournal(readFileSync(file, 'utf8')) : [];
  const fd = openSync(file, 'a');
  let open = true;
  return {
    entries,
    journal: {
      append: (entry) => {
        if (open) writeSync(fd, JSON.stringify(entry) + '\n');
      },
      close: () => {
        if (!open) return;
        open = false;
        closeSync(fd);
      },
    },
  };
}

function parseJournal(text: string): JournalEntry[] {
  const entries: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      entries.push(JSON.parse(line) as JournalEntry);
    } catch {
      // A torn last line from a crash mid-write: its change was never acknowledged to anyone.
    }
  }
  return entries;
}
