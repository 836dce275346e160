import { log } from '@temporalio/activity';
import type { Pool } from 'pg';
import type { ReleaseReason, ReservationStatus } from '../domain/reservation';
import { extendHold } from '../db/queries/extend-hold';
import { findReservation } from '../db/queries/find-reservation';
import { recordPaymentFailure } from '../db/queries/record-refund';
import { releaseReservation } from '../db/queries/release-reservation';
import { noCrashPoints, type CrashPointHook } from '../ops/crash-points';

export interface ActivityDeps {
  pool: Pool;
  /** Test harness only (test/helpers/entries/): called once a release has committed a waitlist offer. */
  onCrashPoint?: CrashPointHook;
}

export interface ReleaseUnitInput {
  reservationId: string;
  reason: ReleaseReason;
  /** With reason payment_failed: the provider's decline reason, kept on the reservation. */
  failureReason?: string;
}

export interface ReleaseUnitResult {
  /** True when this call released the unit; false when it was already released (a retry). */
  released: boolean;
  /** The reservation's status in the database after the call. */
  status: ReservationStatus;
}

export interface ExtendHoldInput {
  reservationId: string;
  /** The extension's number within the reservation, counted by the workflow: the retry-safe key. */
  seq: number;
  seconds: number;
  by: string;
  reason?: string;
  expiresAtMs: number;
}

export function createReservationActivities({ pool, onCrashPoint = noCrashPoints }: ActivityDeps) {
  return {
    /** Idempotent: safe to retry after a timeout whose first attempt did commit. */
    async releaseUnit({ reservationId, reason, failureReason }: ReleaseUnitInput): Promise<ReleaseUnitResult> {
      if (failureReason) await recordPaymentFailure(pool, reservationId, failureReason);
      const outcome = await releaseReservation(pool, reservationId, reason);
      if (outcome.released && outcome.unit === 'offered') onCrashPoint('after-waitlist-offer', [outcome.saleId]);
      const reservation = await findReservation(pool, reservationId);
      if (!reservation) throw new Error(`reservation ${reservationId} does not exist`);
      log.info('release', {
        reservationId,
        reason,
        released: outcome.released,
        ...(outcome.released && { unit: outcome.unit }),
        ...(outcome.released && outcome.unit === 'offered' && { offerId: outcome.offerId }),
        status: reservation.status,
      });
      return { released: outcome.released, status: reservation.status };
    },

    /** Moves `expires_at` and records the extension; false when the reservation is no longer held. Idempotent. */
    async extendHoldDeadline({ expiresAtMs, ...extension }: ExtendHoldInput): Promise<boolean> {
      const applied = await extendHold(pool, { ...extension, expiresAt: new Date(expiresAtMs) });
      log.info('hold extension', { reservationId: extension.reservationId, seq: extension.seq, applied });
      return applied;
    },
  };
}

export type ReservationActivities = ReturnType<typeof createReservationActivities>;
