import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../domain/reservation-workflow-contract';

/** Development defaults; `npm run dev` starts services at exactly these addresses. */
export const DEV_DEFAULTS = {
  databaseUrl: 'postgres://postgres:postgres@127.0.0.1:5433/flash_sale',
  temporalAddress: '127.0.0.1:7233',
  jwtSecret: 'dev-only-jwt-secret-change-me-0123456789abcdef',
  adminToken: 'dev-admin-token',
  webhookSecret: 'dev-webhook-secret',
} as const;

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const databaseEnv = z.object({
  DATABASE_URL: z.string().url().default(DEV_DEFAULTS.databaseUrl),
  PG_POOL_MAX: int(20),
  PG_STATEMENT_TIMEOUT_MS: int(5_000),
});

export const temporalEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default(DEV_DEFAULTS.temporalAddress),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
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
