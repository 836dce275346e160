import { TARGETS, type Target } from './options';
import type { Random } from './random';
import type { ChaosStack } from './stack';

export interface KillRecord {
  target: Target;
  atSeconds: number;
  detail: string;
  downMs: number;
  restartMs: number;
}

export interface KillerOptions {
  stack: ChaosStack;
  kills: number;
  /** The processes it may kill (all four by default). */
  targets?: readonly Target[];
  random: Random;
  minGapMs: number;
  maxGapMs: number;
  maxDownMs: number;
  /** The whole loop gives up (and the run fails) after this long. */
  deadlineMs: number;
  startedAt: number;
  say: (message: string) => void;
  /** Runs after each restart (a mid-run invariant snapshot). */
  afterRestart?: (record: KillRecord) => Promise<void>;
}

export interface UnexpectedDeath {
  target: Target;
  atSeconds: number;
  detail: string;
  restartMs: number;
}

/** Every target at least floor(kills / targets) times, the rest at random, in random order. */
export function killPlan(kills: number, random: Random, targets: readonly Target[] = TARGETS): Target[] {
  const each = Math.floor(kills / targets.length);
  const plan = targets.flatMap((target) => Array<Target>(each).fill(target));
  while (plan.length < kills) plan.push(random.pick(targets));
  return random.shuffle(plan);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * kill -9 one process at a random moment, leave it down for a moment, start it again and wait
 * until it serves; one at a time. A process that dies without being killed (it did not survive a
 * dependency's restart) is recorded and started again so the run can go on.
 */
export async function runKiller(options: KillerOptions) {
  const { stack, random, say } = options;
  const at = () => (Date.now() - options.startedAt) / 1000;
  const records: KillRecord[] = [];
  const unexpected: UnexpectedDeath[] = [];
  const deadline = Date.now() + options.deadlineMs;

  const restartUnexpected = async () => {
    for (const death of stack.unexpectedDeaths()) {
      say(`!! ${death.target} died without being killed (${death.detail}); starting it again`);
      const atSeconds = at();
      const began = Date.now();
      stack.expectDown(death.target, true);
      await stack.victims[death.target].start();
      stack.expectDown(death.target, false);
      unexpected.push({ ...death, atSeconds, restartMs: Date.now() - began });
    }
  };

  for (const target of killPlan(options.kills, random, options.targets)) {
    if (Date.now() > deadline) throw new Error(`the killer ran out of time after ${records.length} kills`);
    const gapMs = random.between(options.minGapMs, options.maxGapMs);
    const gapEnd = Date.now() + gapMs;
    while (Date.now() < gapEnd) {
      await restartUnexpected();
      await sleep(Math.min(250, Math.max(0, gapEnd - Date.now())));
    }
    await restartUnexpected();

    const victim = stack.victims[target];
    stack.expectDown(target, true);
    const killedAt = at();
    const detail = await victim.kill();
    const downMs = Math.round(random.between(300, Math.max(300, options.maxDownMs)));
    say(`kill -9 ${target} at ${killedAt.toFixed(1)} s (${detail}); down for ${downMs} ms`);
    await sleep(downMs);
    const began = Date.now();
    try {
      await victim.start();
    } catch (error) {
      throw new Error(`${target} did not come back: ${String(error)}`, { cause: error });
    }
    stack.expectDown(target, false);
    const record: KillRecord = { target, atSeconds: killedAt, detail, downMs, restartMs: Date.now() - began };
    records.push(record);
    say(`   ${target} back after ${record.restartMs} ms (kill ${records.length}/${options.kills})`);
    await options.afterRestart?.(record);
  }
  await restartUnexpected();
  return { records, unexpected, restartUnexpected };
}
