import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { createPool } from '../../db/pool';
import { ensureDevCertificate, type DevCertificate } from '../../scripts/stack/dev-certificate';
import { freePort } from '../../scripts/stack/free-port';
import { runMigrations } from '../../scripts/stack/migrate';
import { startEmbeddedPostgres, type RunningPostgres } from '../../scripts/stack/postgres';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { TEST_SECRETS } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { waitFor } from '../helpers/sales';

/*
 * DATABASE_URL's sslmode and sslrootcert, against a second embedded Postgres of its own with
 * `ssl=on` and a certificate from the development-certificate script. What pg 8.23
 * (pg-connection-string 2.14) does with them: sslrootcert is read as the only CA, and `require`
 * and `verify-ca` verify the certificate and its host name exactly as `verify-full` does.
 */
let certificate: DevCertificate;
let otherCa: DevCertificate;
let postgres: RunningPostgres;
let api: ServiceProcess | undefined;
const logs: string[] = [];

beforeAll(async () => {
  const dir = path.join(testInfra().dir, `pg-tls-${randomUUID()}`);
  certificate = ensureDevCertificate(path.join(dir, 'tls'));
  otherCa = ensureDevCertificate(path.join(dir, 'other-tls'));
  postgres = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    port: await freePort(),
    database: 'flash_sale_tls',
    tls: certificate,
    onLog: (line) => logs.push(`[postgres] ${line}`),
  });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await postgres?.stop();
});

const urlWith = (query: string) => `${postgres.url}?${query}`;

async function sslOf(databaseUrl: string): Promise<{ ssl: boolean; version: string | null }> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ ssl: boolean; version: string | null }>(
      'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()',
    );
    return rows[0]!;
  } finally {
    await client.end();
  }
}

test('sslmode=verify-full with the development CA as sslrootcert connects over TLS; the pool of db/pool.ts too', async () => {
  const url = urlWith(`sslmode=verify-full&sslrootcert=${encodeURIComponent(certificate.caFile)}`);
  expect(await sslOf(url)).toEqual({ ssl: true, version: expect.stringMatching(/^TLSv1\.[23]$/) as unknown });
  const pool = createPool({ databaseUrl: url, max: 1, applicationName: 'tls-test', statementTimeoutMs: 5_000 });
  try {
    const { rows } = await pool.query<{ ssl: boolean }>('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
    expect(rows).toEqual([{ ssl: true }]);
  } finally {
    await pool.end();
  }
});

test('a certificate from another CA, or no sslrootcert (the system CAs), is refused; sslmode=disable goes in clear', async () => {
  const wrongCa = `sslrootcert=${encodeURIComponent(otherCa.caFile)}`;
  for (const mode of ['verify-full', 'verify-ca', 'require']) {
    await expect(sslOf(urlWith(`sslmode=${mode}&${wrongCa}`))).rejects.toThrow(/unable to verify the first certificate/);
  }
  await expect(sslOf(urlWith('sslmode=verify-full'))).rejects.toThrow(/unable to verify the first certificate/);
  // The server allows both (its pg_hba.conf is initdb's): what the URL asks for decides.
  expect(await sslOf(urlWith('sslmode=disable'))).toEqual({ ssl: false, version: null });
});

test('the migration tool and every connection the API opens (pool, change feed, sold-out listener) use TLS', async () => {
  const url = urlWith(`sslmode=verify-full&sslrootcert=${encodeURIComponent(certificate.caFile)}`);
  // node-pg-migrate honours the URL: with the wrong CA it cannot connect, with the right one it migrates.
  await expect(runMigrations(urlWith(`sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa.caFile)}`))).rejects.toThrow(
    /unable to verify the first certificate/,
  );
  await runMigrations(url);
  const tables = await query(url, "select count(*)::int as n from pg_tables where tablename = 'reservations'");
  expect(tables).toEqual([{ n: 1 }]);

  const port = await freePort();
  api = serviceProcess({
    name: 'api',
    entry: 'api/server.ts',
    env: {
      ...process.env,
      ...TEST_SECRETS,
      DATABASE_URL: url,
      TEMPORAL_ADDRESS: testInfra().temporalAddress,
      TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    onLine: (line) => logs.push(`[api] ${line}`),
  });
  api.start();
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
  const names = ['flash-sale-api', 'flash-sale-api-change-feed', 'flash-sale-api-listener'];
  const connections = await waitFor(
    async () => {
      // /readyz's Postgres check makes the pool open a connection (its answer is 503 without a worker).
      await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
      return query(
        url,
        `select a.application_name as name, bool_and(s.ssl) as ssl
           from pg_stat_activity a join pg_stat_ssl s using (pid)
          where a.application_name = any($1::text[]) group by 1 order by 1`,
        [names],
      );
    },
    (rows) => rows.length === names.length,
    30_000,
    "the API's connections",
  );
  expect(connections).toEqual(names.map((name) => ({ name, ssl: true })));
});

async function query(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
