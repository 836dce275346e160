import type { Pool } from 'pg';
import type { PaymentStatus, ReservationOrigin, ReservationStatus } from '../../domain/reservation';
import { withTransaction } from '../pool';

export interface ShopperRows {
  reservations: Array<{
    id: string;
    sale_id: string;
    sale_name: string;
    unit_id: number;
    status: ReservationStatus;
    origin: ReservationOrigin;
    price_cents: number;
    currency: string;
    idempotency_key: string | null;
    payment_method: string | null;
    payment_status: PaymentStatus | null;
    charge_id: string | null;
    failure_reason: string | null;
    queue_ticket_id: string | null;
    created_at: Date;
    expires_at: Date;
    released_at: Date | null;
    paid_at: Date | null;
  }>;
  paymentAttempts: Array<{
    reservation_id: string;
    gateway: string;
    attempts: number;
    refused: number;
    created_at: Date;
    updated_at: Date;
  }>;
  charges: Array<{
    id: string;
    reservation_id: string;
    gateway: string;
    amount_cents: number;
    currency: string;
    status: 'captured' | 'refunded' | 'refund_failed';
    refund_id: string | null;
    refund_failure: string | null;
    created_at: Date;
    refunded_at: Date | null;
    refund_failed_at: Date | null;
  }>;
  holdExtensions: Array<{
    reservation_id: string;
    seq: number;
    seconds: number;
    extended_by: string;
    reason: string | null;
    expires_at: Date;
    created_at: Date;
  }>;
  webhookEvents: Array<{
    id: string;
    type: string;
    charge_id: string;
    reference: string;
    received_at: Date;
    processed_at: Date | null;
  }>;
  queueTickets: Array<{
    id: string;
    sale_id: string;
    challenge_id: string;
    joined_at: Date;
    position: number | null;
    admitted_at: Date | null;
    admitted_until: Date | null;
    left_at: Date | null;
  }>;
  waitlistEntries: Array<{
    sale_id: string;
    state: 'waiting' | 'offered' | 'passed_over';
    reservation_id: string | null;
    joined_at: Date;
    offered_at: Date | null;
  }>;
  /** With what the notice's e-mail names: the sale, and the reservation's unit and hold end. */
  notices: Array<{
    kind: string;
    subject: string;
    reservation_id: string | null;
    sale_id: string | null;
    state: 'pending' | 'sent' | 'failed' | 'dropped';
    attempts: number;
    sent_at: Date | null;
    failed_at: Date | null;
    last_error: string | null;
    sale_name: string;
    unit_id: number | null;
    expires_at: Date | null;
    price_cents: number;
    currency: string;
  }>;
}

/*
 * Everything stored under one shopper id, in one read-only REPEATABLE READ transaction so the
 * parts agree: their reservations (reservations_by_shopper_newest) and what hangs off them by reservation
 * id, their queue tickets, waitlist entries and notices (the *_by_user/_by_shopper indexes of
 * migrations/0017). Oldest first in each part.
 */
export async function readShopperRows(pool: Pool, shopperId: string): Promise<ShopperRows> {
  return withTransaction(
    pool,
    async (client) => {
      const q = async <T>(sql: string) => (await client.query(sql, [shopperId])).rows as T[];
      const mine = `select id from reservations where user_id = $1::text`;
      return {
        reservations: await q(
          `select r.id, r.sale_id, s.name as sale_name, r.unit_id, r.status, r.origin, s.price_cents, s.currency,
                  r.idempotency_key, r.payment_method, r.payment_status, r.charge_id, r.failure_reason, r.queue_ticket_id,
                  r.created_at, r.expires_at, r.released_at, r.paid_at
           from reservations r join sales s on s.id = r.sale_id
           where r.user_id = $1::text order by r.created_at, r.id`,
        ),
        paymentAttempts: await q(
          `select reservation_id, gateway, attempts, refused, created_at, updated_at
           from payment_attempts where reservation_id in (${mine}) order by created_at, reservation_id`,
        ),
        charges: await q(
          `select id, reservation_id, gateway, amount_cents, currency, status, refund_id, refund_failure,
                  created_at, refunded_at, refund_failed_at
           from charges where reservation_id in (${mine}) order by created_at, id`,
        ),
        holdExtensions: await q(
          `select reservation_id, seq, seconds, extended_by, reason, expires_at, created_at
           from hold_extensions where reservation_id in (${mine}) order by created_at, reservation_id, seq`,
        ),
        webhookEvents: await q(
          `select id, type, charge_id, reference, received_at, processed_at
           from webhook_events where reference in (select id::text from reservations where user_id = $1::text)
           order by received_at, id`,
        ),
        queueTickets: await q(
          `select id, sale_id, challenge_id, joined_at, position, admitted_at, admitted_until, left_at
           from queue_tickets where shopper_id = $1::text order by joined_at, id`,
        ),
        waitlistEntries: await q(
          `select sale_id, state, reservation_id, joined_at, offered_at
           from waitlist_entries where user_id = $1::text order by joined_at, id`,
        ),
        notices: await q(
          `select n.kind, n.subject, n.reservation_id, n.sale_id, n.state, n.attempts, n.sent_at, n.failed_at, n.last_error,
                  s.name as sale_name, r.unit_id, r.expires_at, s.price_cents, s.currency
           from notifications n
           left join reservations r on r.id = n.reservation_id
           join sales s on s.id = coalesce(n.sale_id, r.sale_id)
           where n.reservation_id in (${mine}) or n.shopper_id = $1::text
           order by n.id`,
        ),
      };
    },
    'begin isolation level repeatable read read only',
  );
}
