import { accessSync, constants } from 'node:fs';
import { z } from 'zod';

/** The `sslmode` values pg 8.23 (pg-connection-string 2.14) knows; docs/CONFIGURATION.md says what each does. */
export const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full', 'no-verify'] as const;
const SSL_FILES = ['sslrootcert', 'sslcert', 'sslkey'] as const;

/*
 * A Postgres URL whose TLS parameters are checked at start: pg reads them only at each connect,
 * where an unknown `sslmode` silently means verify-full and a missing `sslrootcert` file fails
 * every connection. Neither the value nor the path is printed.
 */
export const databaseUrl = z
  .string()
  .url()
  .superRefine((value, ctx) => {
    const params = new URL(value).searchParams;
    const mode = params.get('sslmode');
    if (mode !== null && !(SSL_MODES as readonly string[]).includes(mode))
      ctx.addIssue({ code: 'custom', message: `sslmode must be one of ${SSL_MODES.join(', ')}` });
    for (const key of SSL_FILES) {
      const file = params.get(key);
      if (file === null) continue;
      try {
        accessSync(file, constants.R_OK);
      } catch {
        ctx.addIssue({ code: 'custom', message: `${key} names no file this process can read` });
      }
    }
  });
