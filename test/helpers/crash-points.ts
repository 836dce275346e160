import type { CrashPoint, CrashPointHook } from '../../domain/crash-points';

/**
 * Test-only fault injection, wired in by the entries in test/helpers/entries/ and never by the
 * production entry points. With FAULT_CRASH_AT=<point> the process kills itself with SIGKILL when
 * it reaches that point: the crash tests use it to die exactly inside the windows a crash could
 * otherwise leave a unit without a workflow. FAULT_CRASH_SCOPE=<saleId> narrows it to work on that
 * sale, so rows other tests left behind do not set it off.
 */
export function crashPointsFromEnv(env: NodeJS.ProcessEnv): CrashPointHook {
  const at = env.FAULT_CRASH_AT as CrashPoint | undefined;
  const scope = env.FAULT_CRASH_SCOPE;
  return (point, saleIds) => {
    if (point !== at) return;
    if (scope && !saleIds.includes(scope)) return;
    process.kill(process.pid, 'SIGKILL');
  };
}

/** The entry points the harness starts a process through when its environment names a crash point. */
export const CRASH_POINT_ENTRIES = {
  api: 'test/helpers/entries/api-with-crash-points.ts',
  worker: 'test/helpers/entries/worker-with-crash-points.ts',
} as const;

/** The production entry, or the crash-point one when `env` sets FAULT_CRASH_AT. */
export function entryFor(service: 'api' | 'worker', env: NodeJS.ProcessEnv): string {
  if (env.FAULT_CRASH_AT) return CRASH_POINT_ENTRIES[service];
  return service === 'api' ? 'api/server.ts' : 'worker/main.ts';
}
