import { log } from '@temporalio/activity';
import { extendHold } from '../db/queries/extend-hold';
import { markPaymentPending } from '../db/queries/mark-payment-pending';
import type { PaymentRequest } from './charge';
import type { ActivityDeps } from './deps';

export interface ExtendHoldInput {
  reservationId: string;
  /** The extension's number within the reservation, counted by the workflow: the retry-safe key. */
  seq: number;
  seconds: number;
  by: string;
  reason?: string;
  expiresAtMs: number;
}

/** The database steps of the reservation's update handlers (workflows/reservation-messages.ts). Each is idempotent. */
export function createMessageActivities({ pool }: Pick<ActivityDeps, 'pool'>) {
  return {
    /** submitPayment: held → payment_pending; false when the reservation is no longer held. */
    async markPaymentPending({ reservationId, paymentMethod }: PaymentRequest): Promise<boolean> {
      return markPaymentPending(pool, reservationId, paymentMethod);
    },

    /** extendHold: moves `expires_at` and records the extension; false when the reservation is no longer held. */
    async extendHoldDeadline({ expiresAtMs, ...extension }: ExtendHoldInput): Promise<boolean> {
      const applied = await extendHold(pool, { ...extension, expiresAt: new Date(expiresAtMs) });
      log.info('hold extension', { reservationId: extension.reservationId, seq: extension.seq, applied });
      return applied;
    },
  };
}
