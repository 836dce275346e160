import type { Pool } from 'pg';
import type { CrashPointHook } from '../domain/crash-points';
import type { NotificationOutcome } from '../domain/payment';
import type { Notifier } from '../notifications/notifier';
import type { RetentionTarget } from '../domain/retention';
import type { PaymentGateways } from './payment-gateway';

/** What the worker hands the activities (worker/create-worker.ts). */
export interface ActivityDeps {
  pool: Pool;
  gateways: PaymentGateways;
  notifier: Notifier;
  /** How long an outcome notice's claimant owns it before another may send it (migrations/0004); default 30. */
  noticeLeaseSeconds?: number;
  /** Called once an outcome notice went out (the worker counts them by kind). */
  onNoticeSent?: (outcome: NotificationOutcome) => void;
  /** Called once an outcome notice was given up (refused for good, or out of attempts). */
  onNoticeFailed?: (outcome: NotificationOutcome) => void;
  /** Called with the rows each retention purge batch deleted. */
  onRowsPurged?: (target: RetentionTarget, rows: number) => void;
  /** Test harness only (test/helpers/entries/): called once a release has committed a waitlist offer. */
  onCrashPoint?: CrashPointHook;
}
