/**
 * Test-only fault injection. With FAULT_CRASH_AT=<point> in its environment a process kills
 * itself with SIGKILL when it reaches that point: the crash tests use it to die exactly inside
 * the windows a crash could otherwise leave a unit without a workflow. FAULT_CRASH_SCOPE=<saleId>
 * narrows it to work on that sale, so rows other tests left behind do not set it off. Unset, it
 * does nothing.
 */
export type CrashPoint = 'after-claim-commit' | 'after-workflow-start';

export function crashPoint(point: CrashPoint, saleIds: readonly string[]): void {
  if (process.env.FAULT_CRASH_AT !== point) return;
  const scope = process.env.FAULT_CRASH_SCOPE;
  if (scope && !saleIds.includes(scope)) return;
  process.kill(process.pid, 'SIGKILL');
}
