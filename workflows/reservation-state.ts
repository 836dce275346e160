import { ApplicationFailure, condition, upsertSearchAttributes } from '@temporalio/workflow';
import { ErrorCode } from '../domain/errors';
import type { ChargeEvent } from '../domain/payment';
import type { ReservationStatus } from '../domain/reservation';
import { ReservationStatusAttribute, type ReservationWorkflowInput } from '../domain/reservation-workflow-contract';

/** A refusal sent back to the caller of an update: never retried. */
export const refuse = (code: ErrorCode, message: string) =>
  ApplicationFailure.create({ type: code, message, nonRetryable: true });

/** What one reservation workflow knows, shared by its message handlers, its hold and its saga. */
export class ReservationState {
  readonly reservationId: string;
  /** When the hold ends: input.expiresAtMs, moved later by each accepted extension. */
  deadlineMs: number;
  /** Extensions accepted so far (their count numbers the next one) and their seconds in all. */
  extensions = 0;
  extendedSeconds = 0;
  status: ReservationStatus = 'held';
  cancelRequested = false;
  /** The hold timer has fired for the deadline as it is now. */
  holdEnded = false;
  paymentMethod: string | undefined;
  /** The main body has left the hold and decided; no payment is taken after this. */
  holdDecided = false;
  /** The submitPayment handler's DB step, once it has finished (true: payment_pending). */
  markedPending: boolean | undefined;
  readonly chargeEvents: ChargeEvent[] = [];
  readonly refundedCharges: string[] = [];
  /** Captures whose refund failed for good, recorded for support. */
  readonly failedRefunds: string[] = [];
  /** The shopper's notice of the outcome went out with the step that decided it. */
  notified = false;
  private dbStepBusy = false;

  constructor(input: ReservationWorkflowInput) {
    this.reservationId = input.reservationId;
    this.deadlineMs = input.expiresAtMs;
  }

  /** ReservationStatus is set to `held` at start by the client; each later change is upserted. */
  setStatus(next: ReservationStatus): void {
    this.status = next;
    upsertSearchAttributes([{ key: ReservationStatusAttribute, value: next }]);
  }

  holdOpen(): boolean {
    return this.status === 'held' && !this.cancelRequested && this.paymentMethod === undefined && !this.holdDecided;
  }

  /*
   * One database step at a time from the handlers and the main body: two local activities in
   * flight at once may resolve in one order when run and another when replayed, and the
   * commands that follow them would then differ (a determinism failure on replay).
   */
  async oneAtATime<T>(step: () => Promise<T>): Promise<T> {
    await this.dbStepsIdle();
    this.dbStepBusy = true;
    try {
      return await step();
    } finally {
      this.dbStepBusy = false;
    }
  }

  dbStepsIdle(): Promise<void> {
    return condition(() => !this.dbStepBusy);
  }
}
