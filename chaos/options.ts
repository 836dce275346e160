import { z } from 'zod';
import { RELEASE_POLICIES } from '../domain/reservation';

export type Target = 'worker' | 'api' | 'temporal' | 'postgres';
export const TARGETS: readonly Target[] = ['worker', 'api', 'temporal', 'postgres'];

const int = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

const optionsSchema = z.object({
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
  /** Which processes the killer may kill (comma-separated), e.g. `temporal` alone during admission. */
  targets: z
    .string()
    .default(TARGETS.join(','))
    .transform((list) => [...new Set(list.split(',').map((target) => target.trim()))])
    .pipe(z.array(z.enum(TARGETS as [Target, ...Target[]])).min(1)),
});

export type ChaosOptions = z.infer<typeof optionsSchema>;

const FLAGS: Record<string, keyof ChaosOptions> = {
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
};

/** Flags win over environment variables (`CHAOS_KILLS`, `CHAOS_SECONDS`, `CHAOS_SEED`, …). */
export function parseChaosOptions(argv: string[], env: NodeJS.ProcessEnv): ChaosOptions {
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
  if (parsed.data.maxGapMs < parsed.data.minGapMs) throw new Error('--max-gap-ms must not be below --min-gap-ms');
  return parsed.data;
}
