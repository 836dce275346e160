/*
 * Reads by key where many callers may ask at once (every reservation stream re-reading after the
 * LISTEN connection came back): the keys asked for in the same turn of the event loop, and while
 * a batch runs, go to Postgres together, up to `maxBatch` a statement, one statement at a time.
 * 2,000 streams re-reading cost 4 statements, not 2,000 queued on the pool ahead of the claims.
 */
export type BatchedRead<V> = (key: string) => Promise<V | undefined>;

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (error: unknown) => void;
}

export function batchedReader<V>(readMany: (keys: string[]) => Promise<Map<string, V>>, maxBatch = 500): BatchedRead<V> {
  const waiting = new Map<string, Waiter<V>[]>();
  let busy = false;

  const drain = async () => {
    try {
      while (waiting.size > 0) {
        const batch = [...waiting].slice(0, maxBatch);
        for (const [key] of batch) waiting.delete(key);
        try {
          const found = await readMany(batch.map(([key]) => key));
          for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(key));
        } catch (error) {
          for (const [, waiters] of batch) for (const waiter of waiters) waiter.reject(error);
        }
      }
    } finally {
      busy = false;
    }
  };

  return (key) =>
    new Promise<V | undefined>((resolve, reject) => {
      const waiters = waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else waiting.set(key, [{ resolve, reject }]);
      if (busy) return;
      busy = true;
      setImmediate(() => void drain());
    });
}
