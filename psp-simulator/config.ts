import { z } from 'zod';

/*
 * The simulator's own configuration, parsed like the product's (config/common.ts) but without
 * importing it: this program shares only the payment contract with the product.
 */

const rate = z.coerce.number().min(0).max(1).default(0);
const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const optional = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const webhookSecret = z
  .string({
    error: (issue) =>
      issue.input === undefined
        ? 'required and unset (only the development launchers, e.g. npm run dev, supply one)'
        : 'must be a string',
  })
  .min(12, 'at least 12 characters');

export const pspEnv = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PSP_HOST: z.string().default('127.0.0.1'),
  PSP_PORT: z.coerce.number().int().min(0).max(65_535).default(4000),
  /** Appears in charge ids and the ledger, so two instances can be told apart. */
  PSP_NAME: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'lowercase letters, digits and hyphens only')
    .default('primary'),
  /** The HMAC key of `X-Signature`, the API's `WEBHOOK_SECRET`. */
  WEBHOOK_SECRET: webhookSecret,
  /** Empty disables webhooks. */
  PSP_WEBHOOK_URL: z.union([z.literal(''), z.string().url()]).default('http://127.0.0.1:3000/v1/webhooks/payments'),
  PSP_SLOW_MS: ms(12_000),
  PSP_FAULT_RESET_RATE: rate,
  PSP_FAULT_5XX_RATE: rate,
  PSP_FAULT_SLOW_RATE: rate,
  PSP_FAULT_SLOW_MS: ms(8_000),
  PSP_WEBHOOK_DELAY_MS: ms(50),
  PSP_WEBHOOK_DUPLICATE_RATE: rate,
  PSP_WEBHOOK_LATE_RATE: rate,
  PSP_WEBHOOK_LATE_MS: ms(15_000),
  PSP_WEBHOOK_REORDER_RATE: rate,
  /** Every charge request waits this long before it is processed (0: off): a charge path that hangs, then lands. */
  PSP_CHARGE_STALL_MS: ms(0),
  /** Seeds the fault and webhook-behaviour randomness so a run can be repeated. */
  PSP_SEED: optional(z.coerce.number().int()),
  /** Journal of the ledger and idempotency records (JSON lines), reloaded at start. */
  PSP_DATA_FILE: optional(z.string()),
});

export type PspConfig = ReturnType<typeof loadPspConfig>;

/** Fails naming every offending variable (never its value). */
export function loadPspConfig(env: NodeJS.ProcessEnv): Readonly<z.infer<typeof pspEnv>> {
  const parsed = pspEnv.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`,
    );
  }
  return Object.freeze(parsed.data);
}

/** The behaviour that `PUT /v1/_control/config` may change while the process runs. */
export const tunablesSchema = z
  .object({
    slowMs: z.number().int().min(0),
    faultResetRate: z.number().min(0).max(1),
    fault5xxRate: z.number().min(0).max(1),
    faultSlowRate: z.number().min(0).max(1),
    faultSlowMs: z.number().int().min(0),
    webhookDelayMs: z.number().int().min(0),
    webhookDuplicateRate: z.number().min(0).max(1),
    webhookLateRate: z.number().min(0).max(1),
    webhookLateMs: z.number().int().min(0),
    webhookReorderRate: z.number().min(0).max(1),
    chargeStallMs: z.number().int().min(0),
  })
  .strict();

export type Tunables = z.infer<typeof tunablesSchema>;

export function tunablesFromConfig(config: PspConfig): Tunables {
  return {
    slowMs: config.PSP_SLOW_MS,
    faultResetRate: config.PSP_FAULT_RESET_RATE,
    fault5xxRate: config.PSP_FAULT_5XX_RATE,
    faultSlowRate: config.PSP_FAULT_SLOW_RATE,
    faultSlowMs: config.PSP_FAULT_SLOW_MS,
    webhookDelayMs: config.PSP_WEBHOOK_DELAY_MS,
    webhookDuplicateRate: config.PSP_WEBHOOK_DUPLICATE_RATE,
    webhookLateRate: config.PSP_WEBHOOK_LATE_RATE,
    webhookLateMs: config.PSP_WEBHOOK_LATE_MS,
    webhookReorderRate: config.PSP_WEBHOOK_REORDER_RATE,
    chargeStallMs: config.PSP_CHARGE_STALL_MS,
  };
}
