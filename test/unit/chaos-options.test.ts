import { killPlan } from '../../chaos/killer';
import { parseChaosOptions, TARGETS } from '../../chaos/options';
import { seededRandom } from '../../chaos/random';

describe('chaos --targets', () => {
  test('by default the killer may kill all four processes, each at least kills ÷ 4 times', () => {
    const options = parseChaosOptions(['--kills', '9', '--seed', '7'], {});
    expect(options.targets).toEqual([...TARGETS]);
    const plan = killPlan(options.kills, seededRandom(options.seed), options.targets);
    expect(plan).toHaveLength(9);
    for (const target of TARGETS) expect(plan.filter((t) => t === target).length).toBeGreaterThanOrEqual(2);
  });

  test('a list narrows the kills to those processes; the environment variable works too', () => {
    const onlyTemporal = parseChaosOptions(['--targets', 'temporal'], {});
    expect(onlyTemporal.targets).toEqual(['temporal']);
    expect(killPlan(6, seededRandom(1), onlyTemporal.targets)).toEqual(Array(6).fill('temporal'));
    const fromEnv = parseChaosOptions([], { CHAOS_TARGETS: 'worker, temporal,worker' });
    expect(fromEnv.targets).toEqual(['worker', 'temporal']);
    expect(new Set(killPlan(5, seededRandom(2), fromEnv.targets))).toEqual(new Set(['worker', 'temporal']));
  });

  test('an unknown process or an empty list is refused', () => {
    expect(() => parseChaosOptions(['--targets', 'temporal,redis'], {})).toThrow(/targets/);
    expect(() => parseChaosOptions(['--targets=', '--kills', '4'], {})).toThrow(/targets/);
  });
});

describe('chaos --scenario', () => {
  test('full is the default: a waiting-room sale with a waitlist, two gateways, the primary failing half way, slow SMTP', () => {
    const options = parseChaosOptions(['--seconds', '40'], {});
    expect(options).toMatchObject({
      scenario: 'full',
      waitingRoom: true,
      releasePolicy: 'waitlist',
      secondaryGateway: true,
      primaryFailsAt: 20,
      slowSmtp: true,
      queueJumpers: 0.1,
      smtpDelayMs: 2_500,
    });
    expect(parseChaosOptions(['--primary-fails-at', '5', '--smtp-delay-ms=800'], {})).toMatchObject({
      primaryFailsAt: 5,
      smtpDelayMs: 800,
    });
  });

  test('classic is the sale the flags describe, with one gateway and mail to a file', () => {
    const options = parseChaosOptions(['--scenario', 'classic', '--release-policy', 'waitlist'], {});
    expect(options).toMatchObject({
      scenario: 'classic',
      waitingRoom: false,
      releasePolicy: 'waitlist',
      secondaryGateway: false,
      slowSmtp: false,
      queueJumpers: 0,
    });
    expect(options.primaryFailsAt).toBeUndefined();
    expect(parseChaosOptions([], { CHAOS_SCENARIO: 'classic' }).scenario).toBe('classic');
  });

  test('options that contradict a scenario are refused rather than ignored', () => {
    expect(() => parseChaosOptions(['--release-policy', 'relist'], {})).toThrow(/waitlist sale/);
    expect(() => parseChaosOptions(['--scenario', 'classic', '--smtp-delay-ms', '100'], {})).toThrow(/full scenario/);
    expect(() => parseChaosOptions(['--scenario', 'storm'], {})).toThrow(/scenario/);
  });
});
