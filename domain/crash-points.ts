/**
 * The places a crash could leave a held unit without a workflow: the API right after a claim
 * commits, the outbox relay after starting workflows but before recording them, and the worker's
 * release activity right after it committed a waitlist offer (before Temporal hears the activity
 * finished). The claim service, the relay and the activity call an injected hook there;
 * production passes none (a no-op), and only the test harness's entry points
 * (test/helpers/entries/) pass one that kills the process.
 */
export type CrashPoint = 'after-claim-commit' | 'after-workflow-start' | 'after-waitlist-offer';

/** Called at a crash point with the sales whose work just reached it. */
export type CrashPointHook = (point: CrashPoint, saleIds: readonly string[]) => void;

export const noCrashPoints: CrashPointHook = () => undefined;
