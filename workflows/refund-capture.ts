import { ActivityFailure, ApplicationFailure, log, patched, setCurrentDetails } from '@temporalio/workflow';
import type { ChargeRef } from '../activities/payment-activities';
import { bookkeeping, refunding } from './activity-stubs';

export type RefundResult = { refunded: true; refundId: string } | { refunded: false; failure: string };

/**
 * Refunds a capture that bought nothing (invariant 4). A refund the provider refuses for good, or
 * one still failing after its retry bound, ends here: it is recorded as an unrefunded capture
 * (`charges.status = 'refund_failed'`, which the invariant checker names), logged at error and
 * shown in the workflow's details in the Web UI. Workflows that started refunding before this
 * existed retry without end, as they did (`patched('bounded-refunds')`).
 */
export async function refundCapture(charge: ChargeRef): Promise<RefundResult> {
  if (!patched('bounded-refunds')) return { refunded: true, refundId: await bookkeeping.refundCharge(charge) };
  try {
    return { refunded: true, refundId: await refunding.refundCharge(charge) };
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    const cause = error.cause;
    const failure = cause instanceof ApplicationFailure ? `${cause.type ?? 'error'}: ${cause.message}` : String(cause ?? error);
    log.error('refund failed; recording the unrefunded capture for support', { ...charge, failure });
    await bookkeeping.recordRefundFailure({ ...charge, failure });
    setCurrentDetails(`Refund of ${charge.chargeId} failed (${failure}); recorded as an unrefunded capture, settle by hand.`);
    return { refunded: false, failure };
  }
}
