/*
 * `npm run dev-certificate -- [--dir <folder>] [extra host names or IPs...]`: a development CA and a
 * server certificate it signs for localhost, 127.0.0.1, ::1, `proxy` and the extra names, in
 * .data/tls/ (gitignored) unless --dir says otherwise. Run it again at any time: good files are
 * kept, missing, expiring or incomplete ones are made again (scripts/stack/dev-certificate.ts).
 */
import path from 'node:path';
import { DEV_CERTIFICATE_DIR, DEV_CERTIFICATE_NAMES, ensureDevCertificate } from './stack/dev-certificate';
import { PROJECT_ROOT } from './stack/tools';

function main(): void {
  const args = process.argv.slice(2);
  const dirAt = args.indexOf('--dir');
  const dir = dirAt >= 0 ? path.resolve(args[dirAt + 1] ?? '') : path.join(PROJECT_ROOT, DEV_CERTIFICATE_DIR);
  const extra = args.filter((_, i) => dirAt < 0 || (i !== dirAt && i !== dirAt + 1));
  if (dirAt >= 0 && !args[dirAt + 1]) {
    console.error('usage: npm run dev-certificate -- [--dir <folder>] [host names or IPs...]');
    process.exit(2);
  }
  const certificate = ensureDevCertificate(dir, [...new Set([...DEV_CERTIFICATE_NAMES, ...extra])]);
  process.stdout.write(
    `${certificate.action}: CA ${certificate.caFile}, certificate ${certificate.certFile}, key ${certificate.keyFile}\n`,
  );
}

main();
