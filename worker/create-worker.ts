import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type ActivityInterceptorsFactory, type WorkerOptions } from '@temporalio/worker';
import type { Pool } from 'pg';
import { createActivities, type ActivityDeps } from '../activities';
import { createGatewayBreaker } from '../activities/gateway-breaker';
import type { PaymentGateways } from '../activities/payment-gateway';
import type { Notifier } from '../notifications/notifier';
import { createHttpGateway } from '../payments/http-gateway';
import type { CrashPointHook } from '../domain/crash-points';

export interface ReservationWorkerDeps {
  connection: NativeConnection;
  namespace: string;
  /** The payload codec's converter (clients/temporal-connection.ts); the same as every client's. */
  dataConverter: DataConverter;
  taskQueue: string;
  pool: Pool;
  gateways: PaymentGateways;
  notifier: Notifier;
  /** How long an outcome notice's claimant owns it (NOTIFY_LEASE_SECONDS). */
  noticeLeaseSeconds?: number;
  onNoticeSent?: ActivityDeps['onNoticeSent'];
  onNoticeFailed?: ActivityDeps['onNoticeFailed'];
  onRowsPurged?: ActivityDeps['onRowsPurged'];
  maxCachedWorkflows?: number;
  /** A prebuilt bundle (tests bundle once per run); otherwise the workflows are bundled here. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Activity interceptors (worker/worker-metrics.ts counts failures by activity type). */
  activityInterceptors?: ActivityInterceptorsFactory[];
  /** Test harness only (test/helpers/entries/). */
  onCrashPoint?: CrashPointHook;
}

export function paymentGateways(config: { primaryUrl: string; secondaryUrl?: string; timeoutMs: number }): PaymentGateways {
  const gateway = (name: string, baseUrl: string) => ({
    name,
    client: createHttpGateway({ baseUrl, timeoutMs: config.timeoutMs }),
    breaker: createGatewayBreaker(),
  });
  return {
    primary: gateway('primary', config.primaryUrl),
    ...(config.secondaryUrl && { secondary: gateway('secondary', config.secondaryUrl) }),
  };
}

export function createReservationWorker(deps: ReservationWorkerDeps): Promise<Worker> {
  return Worker.create({
    connection: deps.connection,
    namespace: deps.namespace,
    dataConverter: deps.dataConverter,
    taskQueue: deps.taskQueue,
    activities: createActivities({
      pool: deps.pool,
      gateways: deps.gateways,
      notifier: deps.notifier,
      noticeLeaseSeconds: deps.noticeLeaseSeconds,
      onNoticeSent: deps.onNoticeSent,
      onNoticeFailed: deps.onNoticeFailed,
      onRowsPurged: deps.onRowsPurged,
      onCrashPoint: deps.onCrashPoint,
    }),
    ...(deps.activityInterceptors && { interceptors: { activity: deps.activityInterceptors } }),
    ...(deps.maxCachedWorkflows !== undefined && { maxCachedWorkflows: deps.maxCachedWorkflows }),
    ...(deps.workflowBundle ? { workflowBundle: deps.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
  });
}
