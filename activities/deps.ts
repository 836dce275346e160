import type { Pool } from 'pg';
import type { CrashPointHook } from '../ops/crash-points';
import type { Notifier } from './notifier';
import type { PaymentGateways } from './payment-gateway';

/** What the worker hands the activities (worker/create-worker.ts). */
export interface ActivityDeps {
  pool: Pool;
  gateways: PaymentGateways;
  notifier: Notifier;
  /** Test harness only (test/helpers/entries/): called once a release has committed a waitlist offer. */
  onCrashPoint?: CrashPointHook;
}
