import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../stack/tools';

/*
 * Temporal's own server (`go.temporal.io/server/cmd/server`) and its SQL schema tool
 * (`…/cmd/tools/sql`), built from source by `npm run cluster:build`. Pinned: v1.32.2 and later ask
 * a newer Go than these machines have. The schema tool carries the schema files of its own version,
 * so server and schema always match.
 */
export const TEMPORAL_SERVER_VERSION = '1.32.1';
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
/*
 * The Web UI's server, a separate Go module whose release carries the built UI. v2.55.0 is the
 * newest that the installed Go builds (v2.56.0 and later ask for a newer one).
 */
export const TEMPORAL_UI_VERSION = '2.55.0';
export const TEMPORAL_UI_MODULE = 'github.com/temporalio/ui-server/v2';

/*
 * Resolved, because Go's build cache is keyed by source paths: a checkout whose .tools is a
 * symlink to another checkout's then reuses that checkout's compiled packages instead of
 * compiling everything again.
 */
const TOOLS = existsSync(path.join(PROJECT_ROOT, '.tools'))
  ? realpathSync(path.join(PROJECT_ROOT, '.tools'))
  : path.join(PROJECT_ROOT, '.tools');
/** Binaries of one version live in their own folder, so a version bump builds afresh. */
export const CLUSTER_BIN_DIR = path.join(TOOLS, `temporal-server-${TEMPORAL_SERVER_VERSION}`, 'bin');
/** Its binary is also called `server`, hence a folder of its own. */
export const UI_BIN_DIR = path.join(TOOLS, `temporal-ui-server-${TEMPORAL_UI_VERSION}`, 'bin');
/** GOPATH, module cache and build cache under .tools: the build needs nothing outside the project. */
export const GO_PATH = path.join(TOOLS, 'go');
/** Written last by a successful build: its presence (with this version) means the build is done. */
export const BUILD_STAMP = path.join(TOOLS, `temporal-server-${TEMPORAL_SERVER_VERSION}`, 'build.json');

export const serverBinary = () => path.join(CLUSTER_BIN_DIR, 'server');
/** `go install …/cmd/tools/sql` names the binary after its folder: `sql`. */
export const sqlToolBinary = () => path.join(CLUSTER_BIN_DIR, 'sql');

export const uiServerBinary = () => path.join(UI_BIN_DIR, 'server');

export interface BuildStamp {
  version: string;
  uiVersion: string;
  goVersion: string;
  seconds: number;
  builtAt: string;
}

export function readBuildStamp(): BuildStamp | undefined {
  if (!existsSync(BUILD_STAMP)) return undefined;
  const stamp = JSON.parse(readFileSync(BUILD_STAMP, 'utf8')) as BuildStamp;
  return stamp.version === TEMPORAL_SERVER_VERSION && stamp.uiVersion === TEMPORAL_UI_VERSION ? stamp : undefined;
}

export function clusterBinariesBuilt(): boolean {
  return !!readBuildStamp() && [serverBinary(), sqlToolBinary(), uiServerBinary()].every((file) => existsSync(file));
}

export function requireClusterBinaries(): void {
  if (!clusterBinariesBuilt())
    throw new Error(
      `the Temporal server ${TEMPORAL_SERVER_VERSION} is not built: run \`npm run cluster:build\` once (a few minutes)`,
    );
}
