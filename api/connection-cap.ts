import { readFileSync } from 'node:fs';

/**
 * The cap on client connections the API accepts at once (`server.maxConnections`). Every socket is
 * a file descriptor: a crowd that holds them all leaves none for the API's own connections to
 * Postgres, Temporal and the payment provider, and a claim would fail with EMFILE. Past the cap
 * Node closes a new connection at once, so those already in keep working.
 */

/** The soft limit on this process's open files, from `/proc/self/limits` (Linux); undefined where it cannot be read. */
export function openFilesLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | undefined {
  let limits: string;
  try {
    limits = read();
  } catch {
    return undefined;
  }
  const soft = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)?.[1];
  return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
}

/**
 * The default cap: the open-file limit less a tenth of it (at least 128) for the pools, the
 * Temporal and payment-provider sockets, and the files Node itself holds; undefined (no cap) when
 * the limit is unknown.
 */
export function defaultMaxConnections(openFiles: number | undefined): number | undefined {
  if (openFiles === undefined) return undefined;
  return Math.max(1, openFiles - Math.max(128, Math.ceil(openFiles / 10)));
}
