import { ExponentialBackoff, handleAll, retry } from 'cockatiel';

/**
 * The retry of a write that records an e-mail already handed to the SMTP server (a notice marked
 * sent). Losing that write does not lose the mail, it sends it twice: the notice's lease lapses
 * and the next attempt sends it again. So the write is retried through a short database outage
 * (a restart, a failover), 8 attempts 200 ms to 1 s apart, about 5 s in all, which still fits the
 * outcome notice's 10 s local activity (workflows/activity-stubs.ts). A write the lease's owner
 * check refuses is not an error and is not retried.
 */
export const recordAfterSend = retry(handleAll, {
  maxAttempts: 8,
  backoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 1_000 }),
});
