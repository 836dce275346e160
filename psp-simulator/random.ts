import { randomBytes, randomInt } from 'node:crypto';

/** A uniform number in [0, 1). */
export type Random = () => number;

/**
 * mulberry32: tiny, fast and good enough for fault injection. With `seed` a run's fault and
 * webhook decisions repeat (given the same sequence of requests); without, it is seeded randomly.
 */
export function createRandom(seed?: number): Random {
  let state = (seed ?? randomInt(0, 2 ** 32 - 1)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Ids are always cryptographically random, even with a seed: a restarted or second PSP must
 * never mint an id that already exists.
 */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}
