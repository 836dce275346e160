import type { Tunables } from './config';
import type { Random } from './random';
import type { FaultStats } from './types';

/**
 * A transient fault for one request. `before`: nothing was processed. `after`: the charge or
 * refund was processed and recorded, and the client still never hears of it — the case that
 * makes idempotency keys necessary.
 */
export type Fault =
  | { kind: 'none' }
  | { kind: 'reset'; when: 'before' | 'after' }
  | { kind: 'error'; when: 'before' | 'after' }
  | { kind: 'slow'; delayMs: number };

export interface FaultInjector {
  /** Draws this request's fault; counted in `stats` as it is drawn. */
  draw(): Fault;
  readonly stats: FaultStats;
}

export function createFaultInjector(tunables: Readonly<Tunables>, random: Random): FaultInjector {
  const stats: FaultStats = { resetsBefore: 0, resetsAfter: 0, errorsBefore: 0, errorsAfter: 0, slow: 0 };
  const half = (): 'before' | 'after' => (random() < 0.5 ? 'before' : 'after');
  return {
    stats,
    draw: () => {
      if (random() < tunables.faultResetRate) {
        const when = half();
        stats[when === 'before' ? 'resetsBefore' : 'resetsAfter'] += 1;
        return { kind: 'reset', when };
      }
      if (random() < tunables.fault5xxRate) {
        const when = half();
        stats[when === 'before' ? 'errorsBefore' : 'errorsAfter'] += 1;
        return { kind: 'error', when };
      }
      if (random() < tunables.faultSlowRate) {
        stats.slow += 1;
        return { kind: 'slow', delayMs: tunables.faultSlowMs };
      }
      return { kind: 'none' };
    },
  };
}
