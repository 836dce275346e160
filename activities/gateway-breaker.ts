import { BrokenCircuitError, CircuitState, CountBreaker, circuitBreaker, handleWhen } from 'cockatiel';

/**
 * A circuit breaker per payment gateway, in the worker process (cockatiel): it counts the
 * gateway's transient failures (resets, timeouts, 5xx, refused connections; a decline is an
 * answer, not a failure) over its last `window` charge requests; above `failureRate` (once
 * `minimumCalls` were made) it opens and no new charge request is sent to that gateway; after
 * `coolDownMs` it is half-open and lets one trial request through, whose result closes or reopens it.
 */
export interface BreakerOptions {
  failureRate: number;
  window: number;
  minimumCalls: number;
  coolDownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { failureRate: 0.5, window: 20, minimumCalls: 10, coolDownMs: 5_000 };

/** The breaker refused to send the request: it certainly never reached the gateway. */
export class BreakerOpenError extends Error {
  override readonly name = 'BreakerOpenError';
  readonly reachedServer = false;
}

export interface GatewayBreaker {
  /** Sends a charge request through the breaker; while it is open, fails at once with `BreakerOpenError`. */
  run<T>(request: () => Promise<T>): Promise<T>;
  /** True while new requests are refused: open and still cooling down (a trial would be let through after). */
  isOpen(): boolean;
}

const isTransient = (error: Error) => 'reachedServer' in error;

export function createGatewayBreaker(options: BreakerOptions = DEFAULT_BREAKER): GatewayBreaker {
  const policy = circuitBreaker(handleWhen(isTransient), {
    halfOpenAfter: options.coolDownMs,
    breaker: new CountBreaker({
      threshold: options.failureRate,
      size: options.window,
      minimumNumberOfCalls: options.minimumCalls,
    }),
  });
  // cockatiel moves from open to half-open only when the next call comes; the cool-down is tracked here.
  let openedAt = 0;
  policy.onBreak(() => {
    openedAt = Date.now();
  });
  return {
    run: async (request) => {
      try {
        return await policy.execute(request);
      } catch (error) {
        if (error instanceof BrokenCircuitError) throw new BreakerOpenError('circuit breaker open: request not sent');
        throw error;
      }
    },
    isOpen: () => policy.state === CircuitState.Open && Date.now() - openedAt < options.coolDownMs,
  };
}
