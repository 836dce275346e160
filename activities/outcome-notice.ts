import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { recordAfterSend } from '../db/record-after-send';
import {
  claimNotification,
  markNotificationFailed,
  markNotificationSent,
  notificationDetails,
  releaseNotificationClaim,
  type HeldClaim,
} from '../db/queries/notification-claims';
import type { NotificationOutcome } from '../domain/payment';
import { OUTCOME_NOTICE_MAX_ATTEMPTS } from '../domain/reservation-workflow-contract';
import { composeOutcomeEmail } from '../notifications/emails';
import { MailRefusedError } from '../notifications/notifier';
import type { ActivityDeps } from './deps';

/** Thrown while another worker holds the notice's lease; the activity's retry comes back later. */
export class NotificationInFlightError extends Error {
  override name = 'NotificationInFlightError';
}

/** The failure type of an outcome notice given up (refused for good, or out of attempts): never retried. */
export const NOTICE_GIVEN_UP = 'notice-given-up';

/**
 * Tells the shopper how the reservation ended, once per reservation and outcome across every
 * worker: the notice is claimed in Postgres with a lease, sent, then marked sent (retried through a
 * short database outage, db/record-after-send.ts). A worker that dies between sending and marking
 * leaves the claim to lapse, and a retry sends again:
 * at-least-once, because a shopper who is never told their card was charged is worse off than one
 * told twice. Both copies carry the same key, so the duplicate is recognisable.
 *
 * A mail server's permanent refusal (5xx), or a temporary failure on the activity's last attempt
 * (workflows/activity-stubs.ts `notifying`), gives the notice up: the row becomes `failed` with
 * the reply, logged at error and counted in `notifications_failed_total`, and the activity fails
 * with NOTICE_GIVEN_UP, not retried; the workflow ends as it would have. Any other failure lets
 * go of the claim at once and is retried.
 */
export function createOutcomeNotice(
  deps: Pick<ActivityDeps, 'pool' | 'notifier' | 'noticeLeaseSeconds' | 'onNoticeSent' | 'onNoticeFailed'>,
) {
  const { pool, notifier, noticeLeaseSeconds = 30, onNoticeSent, onNoticeFailed } = deps;
  return async function notifyOutcome({
    reservationId,
    outcome,
  }: {
    reservationId: string;
    outcome: NotificationOutcome;
  }): Promise<void> {
    const key = `${reservationId}:${outcome}`;
    const claim = await claimNotification(pool, reservationId, outcome, noticeLeaseSeconds);
    if (claim.kind === 'sent' || claim.kind === 'failed') return;
    if (claim.kind === 'in_flight') throw new NotificationInFlightError(`notice ${key} is being sent elsewhere`);
    const details = await notificationDetails(pool, reservationId);
    if (!details) throw new Error(`reservation ${reservationId} does not exist`);
    try {
      await notifier.send({ key, shopperId: details.shopperId, ...composeOutcomeEmail(outcome, details) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const lastAttempt = isLastAttemptOfNotifyOutcome();
      if (!(error instanceof MailRefusedError) && !lastAttempt) {
        await releaseNotificationClaim(pool, reservationId, outcome, claim, message);
        throw error;
      }
      const reason = error instanceof MailRefusedError ? 'refused for good' : `failed on attempt ${OUTCOME_NOTICE_MAX_ATTEMPTS}`;
      await giveUp(claim, `${reason}: ${message}`);
      throw ApplicationFailure.create({
        type: NOTICE_GIVEN_UP,
        message: `notice ${key} ${reason}: ${message}`,
        nonRetryable: true,
      });
    }
    await recordAfterSend.execute(() => markNotificationSent(pool, reservationId, outcome, claim));
    onNoticeSent?.(outcome);

    async function giveUp(held: HeldClaim, error: string) {
      await markNotificationFailed(pool, reservationId, outcome, held, error);
      onNoticeFailed?.(outcome);
      if (activityContext()) log.error(`outcome notice ${key} ${error}; not retried`, { reservationId, outcome });
    }
  };
}

/**
 * Whether this call is the `notifyOutcome` activity's last attempt. The release and the sale
 * completion also call the notice, inside their own activities, whose attempts count other work.
 */
function isLastAttemptOfNotifyOutcome(): boolean {
  const info = activityContext()?.info;
  return info?.activityType === 'notifyOutcome' && info.attempt >= OUTCOME_NOTICE_MAX_ATTEMPTS;
}

/** The activity's context; none when a test calls the notice directly. */
function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
