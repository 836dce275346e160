import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { RETENTION_TARGETS } from '../domain/retention';

/*
 * The worker's own Prometheus metrics (prom-client), beside the Temporal SDK's, which the SDK's
 * Rust runtime serves on WORKER_METRICS_ADDRESS and cannot share a registry with. Counters count
 * what this process did; the gauges read Postgres when scraped, so every worker reports the same
 * value for them (take `max` across workers, as deploy/grafana's dashboard does).
 */
export function createWorkerMetrics(pool: Pool, options: { waitingRooms: () => boolean }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  new Gauge({
    name: 'outbox_oldest_unstarted_seconds',
    help: 'Age of the oldest reservation whose workflow the outbox relay has not started (0 when none waits)',
    registers: [registry],
    async collect() {
      // The relay's own index (reservations_awaiting_workflow) answers the min.
      const { rows } = await pool.query<{ age: number | null }>(
        `select extract(epoch from now() - min(created_at))::float8 as age from reservations
         where workflow_started_at is null and start_refused_at is null`,
      );
      this.set(Math.max(0, rows[0]?.age ?? 0));
    },
  });
  const workflowStartLatency = new Histogram({
    name: 'outbox_workflow_start_latency_seconds',
    help: "From a reservation's claim to its workflow started by this worker's relay",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const workflowStartsGivenUp = new Counter({
    name: 'outbox_workflow_starts_given_up_total',
    help: "Reservations whose workflow start this worker's relay gave up, releasing the unit: refused (for good by Temporal) or hold_ended (failing until the hold was over)",
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  for (const reason of ['refused', 'hold_ended']) workflowStartsGivenUp.inc({ reason }, 0);
  const activityFailures = new Counter({
    name: 'worker_activity_failures_total',
    help: 'Activity attempts that ended in an error, by activity type (Temporal retries most of them)',
    labelNames: ['activity_type'] as const,
    registers: [registry],
  });
  const activityAttempts = new Counter({
    name: 'worker_activity_attempts_total',
    help: 'Activity attempts started, by activity type',
    labelNames: ['activity_type'] as const,
    registers: [registry],
  });
  const notificationsSent = new Counter({
    name: 'notifications_sent_total',
    help: 'Notices handed to the e-mail server (or file), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const notificationSendErrors = new Counter({
    name: 'notification_send_errors_total',
    help: 'Dispatched notices whose send attempt failed (retried with backoff unless it was the last), by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const notificationsFailed = new Counter({
    name: 'notifications_failed_total',
    help: 'Notices given up (state failed in Postgres): dispatched ones after their last attempt, outcome ones refused for good or out of attempts, by kind',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const rowsPurged = new Counter({
    name: 'retention_purged_rows_total',
    help: 'Rows the retention purge deleted, by what they were (domain/retention.ts)',
    labelNames: ['target'] as const,
    registers: [registry],
  });
  for (const target of RETENTION_TARGETS) rowsPurged.inc({ target }, 0);
  // Sales that started within a day or have not started: the label set stays the live sales.
  const recentWaitingRooms = `from waiting_rooms w join sales s on s.id = w.sale_id where s.starts_at > now() - interval '1 day'`;
  new Gauge({
    name: 'waiting_room_queue_length',
    help: 'Shoppers queued and not yet admitted, per sale with a waiting room (sales started within a day)',
    labelNames: ['sale_id'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!options.waitingRooms()) return;
      const { rows } = await pool.query<{ sale_id: string; queued: number }>(
        `select w.sale_id, (w.assigned - w.serving
                 + (select count(*) from queue_tickets t where t.sale_id = w.sale_id and t.position is null))::int as queued
         ${recentWaitingRooms}`,
      );
      for (const row of rows) this.set({ sale_id: row.sale_id }, row.queued);
    },
  });
  new Gauge({
    name: 'waiting_room_admitted',
    help: 'Shoppers admitted so far (the "now serving" position), per sale with a waiting room; its rise per second is the admission rate',
    labelNames: ['sale_id'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      if (!options.waitingRooms()) return;
      const { rows } = await pool.query<{ sale_id: string; serving: number }>(
        `select w.sale_id, w.serving ${recentWaitingRooms}`,
      );
      for (const row of rows) this.set({ sale_id: row.sale_id }, row.serving);
    },
  });

  /** Counts every activity attempt and every one that throws, by activity type. */
  const activityInterceptor: ActivityInterceptorsFactory = (ctx) => ({
    inbound: {
      async execute(input, next) {
        const labels = { activity_type: ctx.info.activityType };
        activityAttempts.inc(labels);
        try {
          return await next(input);
        } catch (error) {
          activityFailures.inc(labels);
          throw error;
        }
      },
    },
  });

  return {
    registry,
    workflowStartLatency,
    workflowStartsGivenUp,
    notificationsSent,
    notificationSendErrors,
    notificationsFailed,
    rowsPurged,
    activityInterceptor,
  };
}

export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** Serves `GET /metrics` on `host:port`; resolves once listening. */
export async function serveWorkerMetrics(registry: Registry, address: string): Promise<Server & { port: number }> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator);
  const port = Number(address.slice(separator + 1));
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error)),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
