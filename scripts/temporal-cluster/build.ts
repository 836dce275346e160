/*
 * `npm run cluster:build`: builds Temporal's server and SQL schema tool from source into
 * .tools/temporal-server-<version>/bin, and the Web UI server into
 * .tools/temporal-ui-server-<version>/bin, with `go install <module>/<package>@v<version>`.
 * Once built (a stamp with the pinned versions) it does nothing. GOPATH, module and build caches live in .tools/go, so
 * nothing outside the project is touched. Runs under `nice` because it takes minutes of both cores.
 * Not part of `npm install`: only `TEMPORAL_SERVER=cluster` needs it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {
  BUILD_STAMP,
  CLUSTER_BIN_DIR,
  clusterBinariesBuilt,
  GO_PATH,
  readBuildStamp,
  TEMPORAL_SERVER_MODULE,
  TEMPORAL_SERVER_VERSION,
  TEMPORAL_UI_MODULE,
  TEMPORAL_UI_VERSION,
  UI_BIN_DIR,
  type BuildStamp,
} from './binaries';

/** One `go install` per module (packages of one command must share a module) and its GOBIN. */
const INSTALLS = [
  {
    bin: CLUSTER_BIN_DIR,
    packages: ['cmd/server', 'cmd/tools/sql'].map((pkg) => `${TEMPORAL_SERVER_MODULE}/${pkg}@v${TEMPORAL_SERVER_VERSION}`),
  },
  { bin: UI_BIN_DIR, packages: [`${TEMPORAL_UI_MODULE}/cmd/server@v${TEMPORAL_UI_VERSION}`] },
];
const PROGRESS_EVERY_MS = 15_000;

const say = (message: string) => process.stdout.write(`[cluster-build] ${message}\n`);

function goVersion(): string {
  const result = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error('`go` was not found: install Go (1.25 or later) to build the Temporal server');
  return result.stdout.trim();
}

interface Progress {
  downloaded: number;
  compiled: number;
}

async function goInstall(bin: string, packages: string[], progress: Progress): Promise<void> {
  mkdirSync(bin, { recursive: true });
  const child = spawn('nice', ['-n', '10', 'go', 'install', '-v', ...packages], {
    env: {
      ...process.env,
      GOPATH: GO_PATH,
      GOMODCACHE: path.join(GO_PATH, 'pkg', 'mod'),
      GOCACHE: path.join(GO_PATH, 'cache'),
      GOBIN: bin,
      GOFLAGS: '-mod=mod',
      // The pinned versions build with the installed toolchain; never fetch another one silently.
      GOTOOLCHAIN: 'local',
      CGO_ENABLED: '0',
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  const tail: string[] = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    if (line.startsWith('go: downloading ')) progress.downloaded++;
    else if (/^[\w.-]+(\/[\w.~+-]+)*$/.test(line)) progress.compiled++;
    tail.push(line);
    if (tail.length > 40) tail.shift();
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    process.stderr.write(`${tail.join('\n')}\n`);
    throw new Error(`go install ${packages.join(' ')} failed (exit ${code})`);
  }
}

async function build(): Promise<void> {
  const go = goVersion();
  say(`building Temporal server ${TEMPORAL_SERVER_VERSION} and UI server ${TEMPORAL_UI_VERSION} with ${go} into .tools/`);
  say('first build: ~250 modules from the Go module proxy, then minutes of compiling on 2 cores');
  const started = Date.now();
  const progress: Progress = { downloaded: 0, compiled: 0 };
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)} s`;
  const ticker = setInterval(
    () => say(`${elapsed()}: ${progress.downloaded} modules downloaded, ${progress.compiled} packages compiled`),
    PROGRESS_EVERY_MS,
  );
  try {
    for (const { bin, packages } of INSTALLS) await goInstall(bin, packages, progress);
  } finally {
    clearInterval(ticker);
  }
  const stamp: BuildStamp = {
    version: TEMPORAL_SERVER_VERSION,
    uiVersion: TEMPORAL_UI_VERSION,
    goVersion: go,
    seconds: Math.round((Date.now() - started) / 1000),
    builtAt: new Date().toISOString(),
  };
  writeFileSync(BUILD_STAMP, `${JSON.stringify(stamp, null, 2)}\n`);
  say(`done in ${stamp.seconds} s (${progress.downloaded} modules downloaded, ${progress.compiled} packages compiled)`);
}

async function main(): Promise<void> {
  if (clusterBinariesBuilt()) {
    const stamp = readBuildStamp();
    say(
      `Temporal server ${TEMPORAL_SERVER_VERSION} already built (${stamp?.goVersion}, took ${stamp?.seconds} s); nothing to do`,
    );
    return;
  }
  await build();
}

main().catch((error: unknown) => {
  say(`failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
