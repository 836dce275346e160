import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from '../../scripts/stack/free-port';
import { PROJECT_ROOT } from '../../scripts/stack/tools';
import type { DevCertificate } from '../../scripts/stack/dev-certificate';

/** Debian's nginx unless NGINX_PATH names another (.ci/run installs the package when it is missing). */
export function nginxPath(): string {
  return process.env.NGINX_PATH ?? '/usr/sbin/nginx';
}

export interface RunningNginx {
  httpPort: number;
  httpsPort: number;
  /** The configuration it runs, for a failing test's message. */
  config: string;
  logs: string[];
  stop(): Promise<void>;
}

/*
 * deploy/nginx/nginx.conf as it is, with only what ties it to the compose network changed, each
 * replacement checked to have matched: the listen ports (free ones on 127.0.0.1), the upstream
 * replicas (given addresses, without `resolve`, and no Docker DNS resolver), the pid file and the
 * certificate paths. On an nginx older than 1.25.1 (Debian 12 has 1.22) `http2 on;` is dropped:
 * that directive came with 1.25.1, per the nginx changelog.
 */
export function localNginxConfig(options: {
  upstreams: readonly string[];
  certificate: Pick<DevCertificate, 'certFile' | 'keyFile'>;
  httpPort: number;
  httpsPort: number;
  dir: string;
  http2Directive: boolean;
}): string {
  let config = readFileSync(path.join(PROJECT_ROOT, 'deploy', 'nginx', 'nginx.conf'), 'utf8');
  const replace = (pattern: RegExp, value: string | ((...groups: string[]) => string), times = 1) => {
    const found = config.match(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`));
    if (found?.length !== times)
      throw new Error(`deploy/nginx/nginx.conf: ${pattern} matched ${found?.length ?? 0} times, not ${times}`);
    config = config.replace(pattern, value as string);
  };
  replace(/^\s*listen 8080;$/m, `    listen 127.0.0.1:${options.httpPort};`);
  replace(/^\s*listen 8443 ssl;$/m, `    listen 127.0.0.1:${options.httpsPort} ssl;`);
  replace(/^\s*resolver .*;$/m, '');
  const upstreams = [...options.upstreams];
  replace(
    /^(\s*)server [\w-]+:\d+ resolve (.*);$/gm,
    (_all, indent, rest) => `${indent}server ${upstreams.shift()} ${rest};`,
    options.upstreams.length,
  );
  replace(/^pid .*;$/m, `pid ${path.join(options.dir, 'nginx.pid')};`);
  replace(/ssl_certificate \S+;/, `ssl_certificate ${options.certificate.certFile};`);
  replace(/ssl_certificate_key \S+;/, `ssl_certificate_key ${options.certificate.keyFile};`);
  if (!options.http2Directive) replace(/^\s*http2 on;$/m, '');
  // Temporary files in the test's own folder rather than the package's /var/lib/nginx.
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
    (kind) => `  ${kind}_temp_path ${path.join(options.dir, kind)};`,
  );
  replace(/^http \{$/m, `http {\n${temp.join('\n')}\n  error_log ${path.join(options.dir, 'error.log')} warn;`);
  return config;
}

/** `nginx -v` says e.g. `nginx version: nginx/1.22.1` (on stderr). */
function nginxVersion(): [number, number, number] {
  const answer = spawnSync(nginxPath(), ['-v'], { encoding: 'utf8' });
  if (answer.error) throw new Error(`${nginxPath()} cannot run (${answer.error.message}); install nginx or set NGINX_PATH`);
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${answer.stderr}${answer.stdout}`);
  if (!match) throw new Error(`unknown nginx version: ${answer.stderr}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** Runs nginx in the foreground with the deploy configuration in front of `upstreams`. */
export async function startNginx(options: {
  upstreams: readonly string[];
  certificate: Pick<DevCertificate, 'certFile' | 'keyFile'>;
}): Promise<RunningNginx> {
  // Its own folder, readable by the unprivileged user nginx's workers switch to when run as root.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'flash-sale-nginx-'));
  chmodSync(dir, 0o755);
  const httpPort = await freePort();
  const httpsPort = await freePort([httpPort]);
  const [major, minor] = nginxVersion();
  const config = localNginxConfig({
    ...options,
    httpPort,
    httpsPort,
    dir,
    http2Directive: major > 1 || (major === 1 && minor >= 25),
  });
  const configFile = path.join(dir, 'nginx.conf');
  writeFileSync(configFile, config);
  const logs: string[] = [];
  const args = ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', configFile];
  const checked = spawnSync(nginxPath(), ['-t', ...args], { encoding: 'utf8' });
  if (checked.status !== 0) throw new Error(`nginx -t refused the configuration:\n${checked.stderr}\n${config}`);
  const child: ChildProcess = spawn(nginxPath(), [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGQUIT'); // graceful shutdown
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all([waitForPort(httpPort, 10_000), waitForPort(httpsPort, 10_000)]);
  } catch (error) {
    await stop();
    throw new Error(`nginx did not listen: ${String(error)}\n${logs.join('')}`);
  }
  return { httpPort, httpsPort, config, logs, stop };
}
