import type { Pool } from 'pg';
import { findReservation } from '../db/queries/find-reservation';
import { recordNotification } from '../db/queries/record-notification';
import type { NotificationOutcome } from '../domain/payment';
import type { Notifier } from './notifier';

/** Tells the shopper how the reservation ended (once per outcome: the notifier deduplicates by key) and records it. */
export function createOutcomeNotice({ pool, notifier }: { pool: Pool; notifier: Notifier }) {
  return async function notifyOutcome({
    reservationId,
    outcome,
  }: {
    reservationId: string;
    outcome: NotificationOutcome;
  }): Promise<void> {
    const reservation = await findReservation(pool, reservationId);
    if (!reservation) throw new Error(`reservation ${reservationId} does not exist`);
    await notifier.send({
      key: `${reservationId}:${outcome}`,
      reservationId,
      shopperId: reservation.user_id,
      outcome,
      at: new Date().toISOString(),
    });
    await recordNotification(pool, reservationId, outcome);
  };
}
