/**
 * Test-only fault injection. With FAULT_CRASH_AT=<point> in its environment a process kills
 * itself with SIGKILL when it reaches that point: the crash tests use it to die exactly inside
 * the windows a crash could otherwise leave a unit without a workflow. Unset, it does nothing.
 */
export type CrashPoint = 'after-claim-commit' | 'after-workflow-start';

export function crashPoint(point: CrashPoint): void {
  if (process.env.FAULT_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
}
