import { createHash } from 'node:crypto';

/*
 * The pre-queue shuffle, written so anyone can re-derive it from what the audit route shows
 * (`GET /v1/admin/sales/:saleId/queue/audit`): the members are the pre-queue's ticket ids sorted
 * as strings (lowercase UUIDs), and a Fisher–Yates shuffle takes its draws from SHA-256:
 * draw k is the first 6 bytes of sha256("<seed>:<k>") read as a big-endian 48-bit integer,
 * k = 0, 1, 2, … For i = n−1 down to 1 it takes draws until one falls below the largest multiple
 * of i+1 that fits in 2^48 (so every j is equally likely), swaps items i and j = draw mod (i+1),
 * and position p is the item at index p−1. docs/DESIGN.md ("Waiting room") says the same.
 */
const RANGE = 2 ** 48;

function drawer(seed: string): () => number {
  let k = 0;
  return () => createHash('sha256').update(`${seed}:${k++}`).digest().readUIntBE(0, 6);
}

/** The order the shuffle gives `ticketIds` (any order in, the same answer out). */
export function shuffledQueue(seed: string, ticketIds: readonly string[]): string[] {
  const items = [...ticketIds].sort();
  const draw = drawer(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const bound = i + 1;
    const limit = RANGE - (RANGE % bound);
    let value = draw();
    while (value >= limit) value = draw();
    const j = value % bound;
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
