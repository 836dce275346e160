import type { Logger } from 'pino';
import type { InvariantVerdict } from '../../domain/sale-feed';
import type { InvariantReport } from '../../invariants/check-sale-invariants';

/**
 * The checker's latest verdict per sale, shared by every admin stream of the sale: a check runs
 * at most once per `everyMs` per sale and never two at once, however many dashboards are open.
 */
export function createInvariantVerdicts(options: {
  check: (saleId: string) => Promise<InvariantReport>;
  everyMs: number;
  logger: Logger;
  maxSales?: number;
}) {
  const entries = new Map<string, { verdict?: InvariantVerdict; startedAt: number; running: boolean }>();
  const maxSales = options.maxSales ?? 1000;
  return {
    /** The latest verdict (undefined before the first check ends); starts a new check when the last is old. */
    latest(saleId: string): InvariantVerdict | undefined {
      let entry = entries.get(saleId);
      if (!entry) {
        if (entries.size >= maxSales) entries.delete(entries.keys().next().value!);
        entry = { startedAt: 0, running: false };
        entries.set(saleId, entry);
      }
      const own = entry;
      if (!own.running && Date.now() - own.startedAt >= options.everyMs) {
        own.running = true;
        own.startedAt = Date.now();
        options
          .check(saleId)
          .then((report) => {
            own.verdict = {
              ok: report.violations.length === 0,
              checkedAt: Date.now(),
              violations: report.violations.slice(0, 20),
            };
          })
          .catch((error: unknown) => options.logger.warn({ err: error, saleId }, 'dashboard invariant check failed'))
          .finally(() => {
            own.running = false;
          });
      }
      return own.verdict;
    },
  };
}

export type InvariantVerdicts = ReturnType<typeof createInvariantVerdicts>;
