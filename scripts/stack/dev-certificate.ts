import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';

export interface DevCertificate {
  dir: string;
  /** The development CA: what a client trusts (sslrootcert, curl --cacert, NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** The server certificate (signed by the CA) and its key, for nginx and Postgres. */
  certFile: string;
  keyFile: string;
  /** What this call did: `kept` when every file was still good. */
  action: 'created' | 'renewed' | 'kept';
}

/** Where `npm run dev-certificate` writes, relative to the project (gitignored), and the files it writes there. */
export const DEV_CERTIFICATE_DIR = '.data/tls';
export const DEV_CERTIFICATE_FILES = { ca: 'ca.crt', cert: 'server.crt', key: 'server.key' } as const;

/** localhost over every loopback spelling, and `proxy`, the compose service the simulators post webhooks to. */
export const DEV_CERTIFICATE_NAMES = ['localhost', '127.0.0.1', '::1', 'proxy'] as const;

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
// Apple's platforms refuse TLS server certificates valid for more than 825 days (Apple support
// article HT210176), whatever CA signed them; a year stays well under it.
const SERVER_DAYS = 365;
/** A certificate with less left than this is made again. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

/*
 * A self-signed development CA and a server certificate it signs for `names`, made with the
 * `openssl` command. Idempotent: files that exist, are not about to expire and (for the server
 * certificate) cover every name and chain to the CA are kept; a new CA means a new server
 * certificate. Keys are written 0600.
 */
export function ensureDevCertificate(dir: string, names: readonly string[] = DEV_CERTIFICATE_NAMES): DevCertificate {
  mkdirSync(dir, { recursive: true });
  const caFile = path.join(dir, DEV_CERTIFICATE_FILES.ca);
  const caKey = path.join(dir, 'ca.key');
  const certFile = path.join(dir, DEV_CERTIFICATE_FILES.cert);
  const keyFile = path.join(dir, DEV_CERTIFICATE_FILES.key);
  const hadAny = existsSync(caFile) || existsSync(certFile);

  let ca = usable(caFile, caKey);
  let changed = false;
  if (!ca) {
    openssl(
      ['req', '-x509', '-new', ...newKey(caKey), '-out', caFile, '-days', String(CA_DAYS)],
      ['-subj', '/CN=flash-sale development CA'],
      ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    );
    ca = usable(caFile, caKey)!;
    changed = true;
  }
  const server = usable(certFile, keyFile);
  if (changed || !server || !server.checkIssued(ca) || !names.every((name) => covers(server, name))) {
    const csr = path.join(dir, 'server.csr');
    const extensions = path.join(dir, 'server.ext');
    const altNames = names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
    writeFileSync(
      extensions,
      [
        `subjectAltName=${altNames}`,
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        '',
      ].join('\n'),
    );
    try {
      openssl(['req', '-new', ...newKey(keyFile), '-out', csr, '-subj', `/CN=${names[0]}`]);
      openssl([
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        caFile,
        '-CAkey',
        caKey,
        '-set_serial',
        `0x${Date.now().toString(16)}`,
        '-days',
        String(SERVER_DAYS),
        '-extfile',
        extensions,
        '-out',
        certFile,
      ]);
    } finally {
      rmSync(csr, { force: true });
      rmSync(extensions, { force: true });
    }
    changed = true;
  }
  return { dir, caFile, certFile, keyFile, action: !changed ? 'kept' : hadAny ? 'renewed' : 'created' };
}

/** An EC P-256 key written unencrypted with mode 0600 (openssl's own mode depends on the umask). */
function newKey(keyFile: string): string[] {
  writeFileSync(keyFile, '', { mode: 0o600 });
  return ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile];
}

/** The certificate at `file` if it and its key exist and it has more than RENEW_BEFORE_MS left. */
function usable(file: string, keyFile: string): X509Certificate | undefined {
  if (!existsSync(file) || !existsSync(keyFile)) return undefined;
  try {
    const certificate = new X509Certificate(readFileSync(file));
    return Date.parse(certificate.validTo) - Date.now() > RENEW_BEFORE_MS ? certificate : undefined;
  } catch {
    return undefined;
  }
}

function covers(certificate: X509Certificate, name: string): boolean {
  return isIP(name) ? certificate.checkIP(name) !== undefined : certificate.checkHost(name) !== undefined;
}

function openssl(...argGroups: string[][]): void {
  try {
    execFileSync('openssl', argGroups.flat(), { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`openssl ${argGroups.flat()[0]} failed${stderr ? `: ${stderr}` : ` (${String(error)})`}`);
  }
}
