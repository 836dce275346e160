import { Pool, type PoolClient } from 'pg';
import type { Logger } from 'pino';

export interface PoolConfig {
  databaseUrl: string;
  max: number;
  applicationName: string;
  /** Server-side cap on any one statement, so a stuck query fails instead of piling up connections. */
  statementTimeoutMs: number;
  /** Told when an idle connection fails (Postgres restarted, say); the pool replaces it. */
  logger?: Pick<Logger, 'warn'>;
}

/*
 * TCP keepalive on every Postgres connection: after a failover or a dead network path, a
 * connection nobody writes to (an idle pooled one, the LISTEN connections) would otherwise stay
 * open on this side forever. Linux then probes after 10 s idle and, with its default 9 probes
 * 75 s apart, gives up after about 11 minutes; the LISTEN connection of api/services/change-feed.ts
 * also checks itself every CHANGE_FEED_CHECK_MS, which is what bounds how long a stream is deaf.
 */
export const TCP_KEEPALIVE = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 } as const;

export function createPool(config: PoolConfig): Pool {
  const pool = new Pool({
    connectionString: config.databaseUrl,
    max: config.max,
    application_name: config.applicationName,
    statement_timeout: config.statementTimeoutMs,
    idle_in_transaction_session_timeout: config.statementTimeoutMs * 2,
    connectionTimeoutMillis: 5_000,
    ...TCP_KEEPALIVE,
  });
  // pg-pool listens for errors only on idle clients. A checked-out client (withTransaction,
  // between two statements) whose server dies emits 'error' with no listener, which ends the
  // process: the chaos run saw the worker exit so on 2 of 6 Postgres kills. Swallowing it here is
  // safe: the next query on that client rejects, and release() drops a client that is not queryable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // pg attaches the client to the error; log what matters, not the client object.
  const { logger } = config;
  if (logger) {
    pool.on('error', (error: Error & { code?: string }) =>
      logger.warn({ code: error.code, reason: error.message }, 'idle postgres connection failed'),
    );
  }
  return pool;
}

/** One connection for a few statements in a row, without a transaction. */
export async function withClient<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await work(client);
  } finally {
    client.release();
  }
}

export async function withTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>, begin = 'begin'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export type Queryable = Pick<Pool, 'query'> | Pick<PoolClient, 'query'>;
