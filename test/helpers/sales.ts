import { TEST_SECRETS } from './app-under-test';
import type { ApiClient } from './api-client';

export interface SaleAnswer {
  id: string;
  units: number;
  available: number;
  held: number;
  sold: number;
  withdrawn: number;
  waitlisted?: number;
  releasePolicy: string;
  status: string;
  holdSeconds: number;
  startsAt: string;
}

export async function createTestSale(
  api: ApiClient,
  overrides: Partial<{
    sku: string;
    name: string;
    units: number;
    holdSeconds: number;
    startsAt: string;
    priceCents: number;
    releasePolicy: 'relist' | 'waitlist' | 'undersell';
    waitingRoom: { admitPerSecond: number; powDifficulty: number };
  }> = {},
): Promise<SaleAnswer> {
  const answer = await api.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: { sku: 'XPHONE-15', name: 'XPhone 15', units: 10, priceCents: 99_900, currency: 'EUR', ...overrides },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/*
 * A deadline for a condition bounds a hang; it is not a performance assertion. However short a
 * test asks for, it waits at least this long, so a machine busy with other work makes a test
 * slower, never red (timing goals live in `npm run bench`). A test that must see something NOT
 * happen watches for it over a stated time instead of using waitFor.
 */
export const CONDITION_DEADLINE_FLOOR_MS = 30_000;

/** The deadline a condition gets: what the test asks for, at least CONDITION_DEADLINE_FLOOR_MS. */
export function conditionDeadlineMs(timeoutMs: number): number {
  return Math.max(timeoutMs, CONDITION_DEADLINE_FLOOR_MS);
}

/** Probes until `accept` holds; fails after conditionDeadlineMs(timeoutMs). */
export async function waitFor<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  timeoutMs = conditionDeadlineMs(timeoutMs);
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(last)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    last = await probe();
  }
  return last;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)]!;
}
