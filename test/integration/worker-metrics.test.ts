import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../scripts/stack/free-port';
import { shopperToken } from '../helpers/api-client';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import type { ReservationAnswer } from '../helpers/payments';
import { createTestSale, waitFor } from '../helpers/sales';

/*
 * One worker whose SMTP server refuses every recipient whose address starts with `refuse-` (550)
 * and accepts the rest, serving its own metrics: a refused notice ends `failed` after its bounded
 * retries, and the worker's /metrics shows relay lag, activity failures by type and the
 * notification counters moving.
 */
let parts: IntegrationApp;
let smtp: SMTPServer;
let metricsUrl: string;
const accepted: string[] = [];

beforeAll(async () => {
  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      // A cancellation notice is refused for now (451): its activity fails and is retried. Other
      // refuse- mailboxes are refused for good (550).
      if (address.address.startsWith('refuse-cancel-')) {
        callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
        return;
      }
      if (address.address.startsWith('refuse-')) {
        callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      stream.resume();
      stream.on('end', () => {
        accepted.push(...session.envelope.rcptTo.map((r) => r.address));
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  const smtpPort = (smtp.server.address() as AddressInfo).port;
  const metricsPort = await freePort();
  metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  parts = await startIntegrationApp({
    env: { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` },
    workerEnv: {
      WORKER_APP_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      NOTIFY_MAX_ATTEMPTS: '3',
      NOTIFY_RETRY_BASE_SECONDS: '1',
    },
  });
});

afterAll(async () => {
  await stopIntegrationApp(parts);
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

async function reserve(shopper: string, holdSeconds: number) {
  const sale = await createTestSale(parts.api, { units: 1, holdSeconds });
  const token = await shopperToken(shopper);
  const claim = await parts.api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token });
  expect(claim.status).toBe(201);
  return { token, shopper, reservation: claim.body };
}

/** The value of one sample of the worker's exposition (0 when the series is absent). */
async function sample(name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const have = match[2]?.split(',') ?? [];
    if (wanted.every((w) => have.includes(w))) return Number(match[3]);
  }
  return 0;
}

/*
 * The dispatcher serves every sale in the database, and the run's database also holds the holds
 * that earlier test files left behind (thousands, from the crowd tests). Their reminders fall due
 * too and go out before or beside this file's, so a reminder here waits its turn behind them: the
 * deadline allows for that, and the assertions name this file's own shoppers, never a count that
 * another file's notices move.
 */
const REMINDER_DEADLINE_MS = 120_000;

test(
  'a notice the SMTP server refuses is retried with backoff, then failed: recorded, logged, counted, not retried again',
  async () => {
    const shopper = `refuse-${Date.now()}`;
    const { reservation } = await reserve(shopper, 65);
    const failed = await waitFor(
      async () =>
        (
          await parts.db.query(
            `select state, attempts, last_error, failed_at from notifications where reservation_id = $1 and kind = 'hold-reminder'`,
            [reservation.id],
          )
        ).rows[0] as { state: string; attempts: number; last_error: string; failed_at: Date | null } | undefined,
      (row) => row?.state === 'failed',
      REMINDER_DEADLINE_MS,
      'reminder failed',
    );
    expect(failed).toMatchObject({ state: 'failed', attempts: 3 });
    expect(failed!.last_error).toMatch(/mailbox unavailable/);
    const key = `${reservation.id}:hold-reminder`;
    // The worker logs after it commits the row, and its output reaches this process on a pipe of
    // its own, in no order with the database's answer: wait for the line rather than expect it.
    const lines = await waitFor(
      async () => parts.app.logs.filter((line) => line.includes(key)),
      (found) => found.some((l) => l.includes('notice failed for good')),
      REMINDER_DEADLINE_MS,
      'failed notice logged',
    );
    // Two retries, 1 s then 2 s apart, then the error.
    expect(
      lines.filter((l) => l.includes('notice send failed; retrying')).map((l) => /"retryInSeconds":(\d+)/.exec(l)?.[1]),
    ).toEqual(['1', '2']);
    expect(lines.filter((l) => l.includes('notice failed for good') && l.includes('"level":50'))).toHaveLength(1);
    expect(await sample('notifications_failed_total', { kind: 'hold-reminder' })).toBeGreaterThanOrEqual(1);
    expect(await sample('notification_send_errors_total', { kind: 'hold-reminder' })).toBeGreaterThanOrEqual(3);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const { rows } = await parts.db.query(
      `select attempts from notifications where reservation_id = $1 and kind = 'hold-reminder'`,
      [reservation.id],
    );
    expect(rows).toEqual([{ attempts: 3 }]);
    expect(accepted.filter((a) => a.startsWith(shopper))).toEqual([]);
  },
  2 * REMINDER_DEADLINE_MS,
);

// The workflow releases and notifies in one local activity, and sends a notice that failed there
// again with notifyOutcome, which is what fails below (a refused notice never fails the release).
const RELEASE_ACTIVITY = 'releaseAndNotify';
const NOTICE_ACTIVITY = 'notifyOutcome';

test(
  "the worker's /metrics: relay lag and start latency, activity failures by type, notifications by kind",
  async () => {
    const startsBefore = await sample('outbox_workflow_start_latency_seconds_count');
    const sentBefore = await sample('notifications_sent_total', { kind: 'hold-reminder' });
    const cancelledBefore = await sample('notifications_sent_total', { kind: 'cancelled' });
    const notifyFailuresBefore = await sample('worker_activity_failures_total', { activity_type: NOTICE_ACTIVITY });

    // A reminder that goes out, and a cancellation notice that goes out.
    const ok = await reserve(`ok-${Date.now()}`, 65);
    const cancelled = await reserve(`ok-cancel-${Date.now()}`, 300);
    expect((await parts.api.post(`/v1/reservations/${cancelled.reservation.id}/cancel`, { token: cancelled.token })).status).toBe(
      200,
    );
    // A cancellation notice the SMTP server refuses for now: the activity that sends it fails (and Temporal retries it).
    const refused = await reserve(`refuse-cancel-${Date.now()}`, 300);
    expect((await parts.api.post(`/v1/reservations/${refused.reservation.id}/cancel`, { token: refused.token })).status).toBe(
      200,
    );

    await waitFor(
      () => sample('worker_activity_failures_total', { activity_type: NOTICE_ACTIVITY }),
      (n) => n > notifyFailuresBefore,
      30_000,
      `${NOTICE_ACTIVITY} failures counted`,
    );
    await waitFor(
      () => sample('notifications_sent_total', { kind: 'cancelled' }),
      (n) => n > cancelledBefore,
      30_000,
      'cancelled sent',
    );
    // This shopper's own reminder, accepted by the SMTP server (which answers 250 after recording it), then counted.
    await waitFor(
      async () => accepted.includes(`${ok.shopper}@shoppers.invalid`),
      (done) => done,
      REMINDER_DEADLINE_MS,
      `the reminder of ${ok.shopper} accepted`,
    );
    await waitFor(
      () => sample('notifications_sent_total', { kind: 'hold-reminder' }),
      (n) => n > sentBefore,
      30_000,
      'reminder counted',
    );
    expect(await sample('worker_activity_attempts_total', { activity_type: NOTICE_ACTIVITY })).toBeGreaterThanOrEqual(
      await sample('worker_activity_failures_total', { activity_type: NOTICE_ACTIVITY }),
    );
    expect(await sample('worker_activity_attempts_total', { activity_type: RELEASE_ACTIVITY })).toBeGreaterThanOrEqual(2);
    expect(await sample('worker_activity_failures_total', { activity_type: RELEASE_ACTIVITY })).toBe(0);
    expect(await sample('outbox_workflow_start_latency_seconds_count')).toBeGreaterThanOrEqual(startsBefore + 3);

    // Relay lag: a reservation claimed 30 s ago whose workflow no relay has started (its lease held
    // far ahead, as by a relay that stalled) shows in the age of the oldest one waiting.
    await parts.db.query(
      `update reservations set workflow_started_at = null, relay_lease_until = now() + interval '1 hour', created_at = now() - interval '30 seconds'
     where id = $1`,
      [ok.reservation.id],
    );
    try {
      expect(await sample('outbox_oldest_unstarted_seconds')).toBeGreaterThanOrEqual(30);
    } finally {
      await parts.db.query(`update reservations set workflow_started_at = now(), relay_lease_until = null where id = $1`, [
        ok.reservation.id,
      ]);
    }
  },
  2 * REMINDER_DEADLINE_MS,
);
