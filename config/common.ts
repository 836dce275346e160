import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../domain/reservation-workflow-contract';
import { databaseUrl } from './database-url';
import { parsePayloadKeys } from '../payload-codec/payload-keys';

/**
 * Development addresses; `npm run dev` starts services at exactly these. Secrets have no default
 * here (see `secret` below and config/development-secrets.ts).
 */
export const DEV_DEFAULTS = {
  databaseUrl: 'postgres://postgres:postgres@127.0.0.1:5433/flash_sale',
  temporalAddress: '127.0.0.1:7233',
} as const;

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const databaseEnv = z.object({
  DATABASE_URL: databaseUrl.default(DEV_DEFAULTS.databaseUrl),
  PG_POOL_MAX: int(20),
  PG_STATEMENT_TIMEOUT_MS: int(5_000),
});

/**
 * A secret the process cannot start without: no default, so a deployment that forgets it stops
 * naming the variable instead of running with a value printed in the README.
 */
export const secret = (minLength: number) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? 'required and unset (only the development launchers, e.g. npm run dev, supply one)'
          : 'must be a string',
    })
    .min(minLength, `at least ${minLength} characters`);

/** A PEM file's path; the file is read when the connection is made (clients/temporal-connection.ts). */
const pemPath = z.string().min(1).optional();

/** `id:base64key,…`: AES-256 keys of the payload codec; the first encrypts, all decrypt (payload-codec/payload-keys.ts). */
export const payloadKeysEnv = z.object({
  TEMPORAL_PAYLOAD_KEYS: secret(1).superRefine((text, context) => {
    try {
      parsePayloadKeys(text);
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  }),
});

export const temporalEnv = payloadKeysEnv.extend({
  TEMPORAL_ADDRESS: z.string().min(1).default(DEV_DEFAULTS.temporalAddress),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** TLS to the Temporal frontend: any of these set turns it on (clients/temporal-connection.ts). */
  TEMPORAL_TLS_CA: pemPath,
  TEMPORAL_TLS_CERT: pemPath,
  TEMPORAL_TLS_KEY: pemPath,
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
});

/** A shopper JWT's `iss` and `aud` unless JWT_ISSUER and JWT_AUDIENCE say otherwise (api/auth.ts checks both). */
export const SHOPPER_TOKEN_SCOPE = { issuer: 'flash-sale', audience: 'flash-sale-api' } as const;

export const shopperTokenEnv = z.object({
  JWT_ISSUER: z.string().min(1).default(SHOPPER_TOKEN_SCOPE.issuer),
  JWT_AUDIENCE: z.string().min(1).default(SHOPPER_TOKEN_SCOPE.audience),
});

export const logEnv = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/** Parses `env` with `schema`, failing fast with every offending variable named (values are never printed). */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): Readonly<z.infer<S>> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  return Object.freeze(parsed.data);
}
