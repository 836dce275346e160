import { claimNotification, markNotificationSent, notificationDetails } from '../db/queries/notification-claims';
import type { NotificationOutcome } from '../domain/payment';
import { composeOutcomeEmail } from '../notifications/emails';
import type { ActivityDeps } from './deps';

/** Thrown while another worker holds the notice's lease; the activity's retry comes back later. */
export class NotificationInFlightError extends Error {
  override name = 'NotificationInFlightError';
}

/**
 * Tells the shopper how the reservation ended, once per reservation and outcome across every
 * worker: the notice is claimed in Postgres with a lease, sent, then marked sent. A worker that
 * dies between sending and marking leaves the claim to lapse, and a retry sends again:
 * at-least-once, because a shopper who is never told their card was charged is worse off than one
 * told twice. Both copies carry the same key, so the duplicate is recognisable.
 */
export function createOutcomeNotice(deps: Pick<ActivityDeps, 'pool' | 'notifier' | 'noticeLeaseSeconds' | 'onNoticeSent'>) {
  const { pool, notifier, noticeLeaseSeconds = 30, onNoticeSent } = deps;
  return async function notifyOutcome({
    reservationId,
    outcome,
  }: {
    reservationId: string;
    outcome: NotificationOutcome;
  }): Promise<void> {
    const key = `${reservationId}:${outcome}`;
    const claim = await claimNotification(pool, reservationId, outcome, noticeLeaseSeconds);
    if (claim === 'sent') return;
    if (claim === 'in_flight') throw new NotificationInFlightError(`notice ${key} is being sent elsewhere`);
    const details = await notificationDetails(pool, reservationId);
    if (!details) throw new Error(`reservation ${reservationId} does not exist`);
    await notifier.send({ key, shopperId: details.shopperId, ...composeOutcomeEmail(outcome, details) });
    await markNotificationSent(pool, reservationId, outcome);
    onNoticeSent?.(outcome);
  };
}
