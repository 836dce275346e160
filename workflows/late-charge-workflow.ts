import { type LateChargeInput } from '../domain/reservation-workflow-contract';
import { bookkeeping } from './activity-stubs';
import { refundCapture } from './compensation';

/*
 * A provider reported a capture for a reservation whose workflow had already finished (a late
 * or reordered webhook after the hold was released). Unless that very charge bought the unit,
 * it is refunded and the refund recorded (invariant 4); a refund that cannot be made is recorded
 * as failed (workflows/compensation.ts). Started with id late-charge-<chargeId>, so a
 * duplicated webhook cannot refund twice.
 */
export async function lateChargeWorkflow(input: LateChargeInput): Promise<{ refundId?: string; refundFailure?: string }> {
  const boughtTheUnit = await bookkeeping.isSaleCharge({ reservationId: input.reservationId, chargeId: input.chargeId });
  if (boughtTheUnit) return {};
  const refund = await refundCapture(input);
  return refund.refunded ? { refundId: refund.refundId } : { refundFailure: refund.failure };
}
