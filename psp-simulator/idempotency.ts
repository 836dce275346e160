import type { IdempotencyRecordData, IdempotencyScope, Journal, JournalEntry, StoredResponse } from './journal';

export type { IdempotencyScope, StoredResponse } from './journal';

/** The first request with a key: it does the work and settles the key with one of these. */
export interface KeyReservation {
  /** Records which charge or refund the key created (journaled), before its outcome is known. */
  attach(resourceId: string): void;
  /** Stores the answer for every later request with this key. */
  complete(response: StoredResponse, resourceId?: string): void;
  /** Gives up the key (nothing was created): concurrent waiters get `response`, later requests start afresh. */
  release(response: StoredResponse): void;
}

export type KeyClaim =
  | { kind: 'new'; reservation: KeyReservation }
  | { kind: 'existing'; response: Promise<StoredResponse> }
  | { kind: 'mismatch' }
  | { kind: 'voided' };

/** What voiding a key found: nothing had used it (now fenced), or the request that did. */
export type KeyFence = { kind: 'fenced' } | { kind: 'used'; resourceId?: string; response: Promise<StoredResponse> };

export interface PendingKey {
  scope: IdempotencyScope;
  key: string;
  resourceId: string;
  reservation: KeyReservation;
}

export interface IdempotencyStore {
  /** Atomic (single-threaded, no await inside): of concurrent requests with one key, exactly one gets `new`. */
  claim(scope: IdempotencyScope, key: string, fingerprint: string): KeyClaim;
  /**
   * Atomic like `claim`: if no request has used the key, marks it voided (journaled) so that every
   * later `claim` of it is `voided`; otherwise reports the request that used it. Repeatable.
   */
  fence(scope: IdempotencyScope, key: string): KeyFence;
  /** Keys reloaded from the journal whose outcome was still pending when the process stopped. */
  pendingFromJournal(): PendingKey[];
}

interface LiveRecord {
  data: IdempotencyRecordData;
  settled: Promise<StoredResponse>;
  settle: (response: StoredResponse) => void;
}

export function createIdempotencyStore(journal: Journal, entries: readonly JournalEntry[] = []): IdempotencyStore {
  const records = new Map<string, LiveRecord>();
  const id = (scope: IdempotencyScope, key: string) => `${scope}\u0000${key}`;

  const live = (data: IdempotencyRecordData): LiveRecord => {
    let settle: (response: StoredResponse) => void = () => undefined;
    const settled = data.response ? Promise.resolve(data.response) : new Promise<StoredResponse>((resolve) => (settle = resolve));
    return { data, settled, settle };
  };

  const reservationOf = (record: LiveRecord): KeyReservation => {
    const write = () => journal.append({ kind: 'idempotency', record: record.data });
    return {
      attach: (resourceId) => {
        record.data = { ...record.data, resourceId };
        write();
      },
      complete: (response, resourceId = record.data.resourceId) => {
        record.data = { ...record.data, resourceId, response };
        write();
        record.settle(response);
      },
      release: (response) => {
        records.delete(id(record.data.scope, record.data.key));
        record.settle(response);
      },
    };
  };

  for (const entry of entries) {
    if (entry.kind !== 'idempotency') continue;
    const { record } = entry;
    if (record.response || record.resourceId || record.voided) records.set(id(record.scope, record.key), live(record));
  }

  return {
    claim: (scope, key, fingerprint) => {
      const existing = records.get(id(scope, key));
      if (existing?.data.voided) return { kind: 'voided' };
      if (existing) {
        return existing.data.fingerprint === fingerprint
          ? { kind: 'existing', response: existing.settled }
          : { kind: 'mismatch' };
      }
      const record = live({ scope, key, fingerprint });
      records.set(id(scope, key), record);
      return { kind: 'new', reservation: reservationOf(record) };
    },
    fence: (scope, key) => {
      const existing = records.get(id(scope, key));
      if (existing && !existing.data.voided) {
        return {
          kind: 'used',
          response: existing.settled,
          ...(existing.data.resourceId && { resourceId: existing.data.resourceId }),
        };
      }
      if (!existing) {
        const data: IdempotencyRecordData = { scope, key, fingerprint: '', voided: true };
        records.set(id(scope, key), live(data));
        journal.append({ kind: 'idempotency', record: data });
      }
      return { kind: 'fenced' };
    },
    pendingFromJournal: () =>
      [...records.values()].flatMap((r) => {
        const { scope, key, resourceId, response } = r.data;
        return !response && resourceId ? [{ scope, key, resourceId, reservation: reservationOf(r) }] : [];
      }),
  };
}
