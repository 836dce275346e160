import { z } from 'zod';
import { RELEASE_POLICIES } from '../domain/reservation';

export type Target = 'worker' | 'api' | 'temporal' | 'postgres';
export const TARGETS: readonly Target[] = ['worker', 'api', 'temporal', 'postgres'];

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

/**
 * `full` (the default): a waiting-room sale with `releasePolicy: waitlist`, two payment gateways
 * whose primary starts failing at `primaryFailsAt`, and outcome e-mails through a slow SMTP sink.
 * `classic`: the sale as the flags say (`--waiting-room`, `--release-policy`), one gateway, mail to a file.
 */
export const SCENARIOS = ['full', 'classic'] as const;
export type Scenario = (typeof SCENARIOS)[number];

const optionsSchema = z.object({
  scenario: z.enum(SCENARIOS).default('full'),
  kills: int(4, 24),
  /** How long shoppers keep arriving; the killer goes on until its kills are done. */
  seconds: int(10, 150),
  seed: z.coerce
    .number()
    .int()
    .default(() => Date.now() % 1_000_000),
  units: int(1, 300),
  shoppers: int(1, 500),
  holdSeconds: int(5, 20),
  /** The sale's releasePolicy; with `waitlist`, shoppers told sold-out join the waitlist. */
  releasePolicy: z.enum(RELEASE_POLICIES).default('relist'),
  /** Pause between a restart and the next kill. */
  minGapMs: int(0, 2_000),
  maxGapMs: int(0, 5_000),
  /** How long a killed process stays down. */
  maxDownMs: int(0, 3_000),
  /** Upper bound on waiting for every reservation to end after the load. */
  settleSeconds: int(10, 180),
  /** Keep the temp dir (data and logs) after the run. */
  keep: z.coerce.boolean().default(false),
  /** Give the sale a waiting room (admitting `admitPerSecond`): shoppers join, wait, claim with the ticket. */
  waitingRoom: z.coerce.boolean().default(false),
  admitPerSecond: int(1, 10),
  /** `full`: share of shoppers who skip the queue (claim without a ticket, then join the waitlist directly). */
  queueJumpers: z.coerce.number().min(0).max(1).default(0.1),
  /** `full`: seconds after the start when the primary gateway starts failing; default half of `seconds`. */
  primaryFailsAt: z.coerce.number().int().min(0).optional(),
  /** `full`: how long the SMTP sink takes over each message (each one 0.5–1.5 times this). */
  smtpDelayMs: int(0, 2_500),
  /** Which processes the killer may kill (comma-separated), e.g. `temporal` alone during admission. */
  targets: z
    .string()
    .default(TARGETS.join(','))
    .transform((list) => [...new Set(list.split(',').map((target) => target.trim()))])
    .pipe(z.array(z.enum(TARGETS as [Target, ...Target[]])).min(1)),
});

export type ChaosOptions = z.infer<typeof optionsSchema>;

/** What the run sets up, once the scenario has filled in what it decides. */
export interface ResolvedChaosOptions extends Omit<ChaosOptions, 'primaryFailsAt'> {
  /** A second gateway, and when (seconds after the start) the primary is told to fail; undefined: never. */
  secondaryGateway: boolean;
  primaryFailsAt?: number;
  /** Outcome e-mails go through the slow SMTP sink (otherwise to a file). */
  slowSmtp: boolean;
}

const FLAGS: Record<string, keyof ChaosOptions> = {
  '--scenario': 'scenario',
  '--kills': 'kills',
  '--seconds': 'seconds',
  '--seed': 'seed',
  '--units': 'units',
  '--shoppers': 'shoppers',
  '--hold-seconds': 'holdSeconds',
  '--release-policy': 'releasePolicy',
  '--min-gap-ms': 'minGapMs',
  '--max-gap-ms': 'maxGapMs',
  '--max-down-ms': 'maxDownMs',
  '--settle-seconds': 'settleSeconds',
  '--admit-per-second': 'admitPerSecond',
  '--targets': 'targets',
  '--queue-jumpers': 'queueJumpers',
  '--primary-fails-at': 'primaryFailsAt',
  '--smtp-delay-ms': 'smtpDelayMs',
};

/** Flags win over environment variables (`CHAOS_KILLS`, `CHAOS_SECONDS`, `CHAOS_SEED`, …). */
export function parseChaosOptions(argv: string[], env: NodeJS.ProcessEnv): ResolvedChaosOptions {
  const raw: Record<string, unknown> = {};
  for (const key of Object.values(FLAGS)) {
    const fromEnv = env[`CHAOS_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`];
    if (fromEnv) raw[key] = fromEnv;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--keep' || arg === '--waiting-room') {
      raw[arg === '--keep' ? 'keep' : 'waitingRoom'] = true;
      continue;
    }
    const [flag, inline] = arg.split('=', 2) as [string, string | undefined];
    const key = FLAGS[flag];
    if (!key) throw new Error(`unknown option ${arg} (known: ${Object.keys(FLAGS).join(', ')}, --keep, --waiting-room)`);
    raw[key] = inline ?? argv[++i];
  }
  const parsed = optionsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`invalid options:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`);
  }
  const options = parsed.data;
  if (options.maxGapMs < options.minGapMs) throw new Error('--max-gap-ms must not be below --min-gap-ms');
  if (options.scenario === 'classic') {
    for (const key of ['queueJumpers', 'primaryFailsAt', 'smtpDelayMs'] as const)
      if (raw[key] !== undefined) throw new Error(`${key} belongs to the full scenario, not classic`);
    return { ...options, queueJumpers: 0, primaryFailsAt: undefined, secondaryGateway: false, slowSmtp: false };
  }
  if (raw.releasePolicy !== undefined && options.releasePolicy !== 'waitlist')
    throw new Error('the full scenario is a waitlist sale: drop --release-policy or use --scenario classic');
  const primaryFailsAt = options.primaryFailsAt ?? Math.floor(options.seconds / 2);
  return {
    ...options,
    waitingRoom: true,
    releasePolicy: 'waitlist',
    secondaryGateway: true,
    primaryFailsAt,
    slowSmtp: true,
  };
}
