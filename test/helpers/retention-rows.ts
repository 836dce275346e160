import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { claimUnit } from '../../db/queries/claim-unit';
import { createSale } from '../../db/queries/create-sale';
import { insertTicket } from '../../db/queries/queue-tickets';

/*
 * Rows on both sides of every retention period (domain/retention.ts, the worker's defaults:
 * tickets 7 days after the room sold out, webhook events 30 days, finished notices 30 days,
 * join counts 10 minutes), dated back in SQL. Only this file's rows are old, so a purge run by
 * any other test file's worker finds nothing of theirs to take.
 */
export interface PlantedRows {
  /** Waiting rooms sold out 8 days ago, 1 day ago, and a live one (not sold out). */
  longSoldOut: string;
  recentlySoldOut: string;
  live: string;
  /** The long sold-out sale's reservation, claimed with one of its tickets. */
  claimedReservation: string;
  oldWebhookEvent: string;
  youngWebhookEvent: string;
  oldSentNotice: string;
  youngSentNotice: string;
  oldFailedNotice: string;
  /** Pending (still owed, though long due): never purged. Leased far ahead so no dispatcher takes it. */
  oldPendingNotice: string;
  /** pow_join_counts rows of a sale that exists nowhere else: (window index) an hour old and current. */
  powSale: string;
}

async function roomSale(pool: Pool, tickets: number): Promise<{ saleId: string; ticketIds: string[] }> {
  const sale = await createSale(pool, {
    id: randomUUID(),
    sku: 'RETENTION-1',
    name: 'Retention test',
    units: 2,
    priceCents: 1_000,
    currency: 'EUR',
    // Long started, so the dispatcher's sold-out pass (sales started within a day) never looks at it.
    startsAt: new Date(Date.now() - 10 * 86_400_000),
    holdSeconds: 300,
    stripes: 1,
    waitingRoom: { admitPerSecond: 10, admissionSeconds: 60, confirmSeconds: 60, powDifficulty: 0 },
  });
  // Marked started, so no worker's admission relay starts an admission workflow for it.
  await pool.query(`update waiting_rooms set workflow_started_at = now() where sale_id = $1`, [sale.id]);
  const ticketIds: string[] = [];
  for (let i = 0; i < tickets; i++) {
    const ticket = await insertTicket(pool, {
      id: randomUUID(),
      saleId: sale.id,
      shopperId: `retention-${i}-${sale.id}`,
      challengeId: randomUUID(),
    });
    ticketIds.push(ticket!.id);
  }
  return { saleId: sale.id, ticketIds };
}

const soldOutDaysAgo = (pool: Pool, saleId: string, days: number) =>
  pool.query(`update waiting_rooms set sold_out_at = now() - make_interval(days => $2) where sale_id = $1`, [saleId, days]);

async function notice(pool: Pool, reservationId: string, kind: string, state: string, daysAgo: number): Promise<string> {
  const at = `now() - make_interval(days => $3)`;
  const { rows } = await pool.query<{ id: string }>(
    `insert into notifications (reservation_id, kind, state, attempts, sent_at, failed_at, next_attempt_at, lease_until)
     values ($1, $2, $4,
             1,
             case when $4 = 'sent' then ${at} end,
             case when $4 = 'failed' then ${at} end,
             ${at},
             case when $4 = 'pending' then now() + interval '1 day' end)
     returning id::text`,
    [reservationId, kind, daysAgo, state],
  );
  return rows[0]!.id;
}

async function webhookEvent(pool: Pool, daysAgo: number): Promise<string> {
  const id = `evt_retention_${randomUUID()}`;
  await pool.query(
    `insert into webhook_events (id, type, charge_id, reference, received_at, processed_at)
     values ($1, 'charge.captured', 'ch_retention', 'none', now() - make_interval(days => $2), now() - make_interval(days => $2))`,
    [id, daysAgo],
  );
  return id;
}

export async function plantRetentionRows(pool: Pool): Promise<PlantedRows> {
  const longSoldOut = await roomSale(pool, 3);
  const recentlySoldOut = await roomSale(pool, 2);
  const live = await roomSale(pool, 2);
  await soldOutDaysAgo(pool, longSoldOut.saleId, 8);
  await soldOutDaysAgo(pool, recentlySoldOut.saleId, 1);
  const claim = await claimUnit(pool, {
    reservationId: randomUUID(),
    saleId: longSoldOut.saleId,
    userId: `retention-0-${longSoldOut.saleId}`,
    idempotencyKey: null,
    holdSeconds: 300,
    stripes: 1,
    startStripe: 0,
  });
  if (claim.kind !== 'claimed') throw new Error(`claim failed: ${claim.kind}`);
  const reservationId = claim.reservation.id;
  // Settled long ago, so that no relay or dispatcher of another test file acts on it.
  await pool.query(
    `update reservations set status = 'expired', released_at = now(), workflow_started_at = now(), queue_ticket_id = $2 where id = $1`,
    [reservationId, longSoldOut.ticketIds[0]],
  );
  await pool.query(`update units set status = 'available', reservation_id = null where reservation_id = $1`, [reservationId]);
  const powSale = randomUUID();
  await pool.query(
    `insert into pow_join_counts (sale_id, window_index, process_id, joins)
     values ($1, floor(extract(epoch from now()) / 10)::bigint - 360, $2, 5),
            ($1, floor(extract(epoch from now()) / 10)::bigint, $2, 7)`,
    [powSale, randomUUID()],
  );
  return {
    longSoldOut: longSoldOut.saleId,
    recentlySoldOut: recentlySoldOut.saleId,
    live: live.saleId,
    claimedReservation: reservationId,
    oldWebhookEvent: await webhookEvent(pool, 31),
    youngWebhookEvent: await webhookEvent(pool, 29),
    oldSentNotice: await notice(pool, reservationId, 'expired', 'sent', 31),
    youngSentNotice: await notice(pool, reservationId, 'hold-reminder', 'sent', 29),
    oldFailedNotice: await notice(pool, reservationId, 'waitlist-offer', 'failed', 40),
    oldPendingNotice: await notice(pool, reservationId, 'paid', 'pending', 40),
    powSale,
  };
}

export interface RemainingRows {
  tickets: Record<'longSoldOut' | 'recentlySoldOut' | 'live', number>;
  claimedReservationTicket: string | null;
  claimedReservationExists: boolean;
  webhookEvents: string[];
  notices: string[];
  powWindows: number;
}

/** What is left of the planted rows. */
export async function remainingRows(pool: Pool, planted: PlantedRows): Promise<RemainingRows> {
  const tickets = async (saleId: string) =>
    (await pool.query<{ n: number }>(`select count(*)::int as n from queue_tickets where sale_id = $1`, [saleId])).rows[0]!.n;
  const reservation = await pool.query<{ queue_ticket_id: string | null }>(
    `select queue_ticket_id from reservations where id = $1`,
    [planted.claimedReservation],
  );
  const events = await pool.query<{ id: string }>(`select id from webhook_events where id = any($1) order by id`, [
    [planted.oldWebhookEvent, planted.youngWebhookEvent],
  ]);
  const notices = await pool.query<{ id: string }>(`select id::text from notifications where reservation_id = $1 order by id`, [
    planted.claimedReservation,
  ]);
  const pow = await pool.query<{ n: number }>(`select count(*)::int as n from pow_join_counts where sale_id = $1`, [
    planted.powSale,
  ]);
  return {
    tickets: {
      longSoldOut: await tickets(planted.longSoldOut),
      recentlySoldOut: await tickets(planted.recentlySoldOut),
      live: await tickets(planted.live),
    },
    claimedReservationTicket: reservation.rows[0]?.queue_ticket_id ?? null,
    claimedReservationExists: reservation.rows.length === 1,
    webhookEvents: events.rows.map((r) => r.id),
    notices: notices.rows.map((r) => r.id),
    powWindows: pow.rows[0]!.n,
  };
}

/** What must remain after a purge with the default periods. */
export function expectedAfterPurge(planted: PlantedRows): RemainingRows {
  return {
    tickets: { longSoldOut: 0, recentlySoldOut: 2, live: 2 },
    claimedReservationTicket: null,
    claimedReservationExists: true,
    webhookEvents: [planted.youngWebhookEvent],
    notices: [planted.youngSentNotice, planted.oldPendingNotice].sort((a, b) => Number(a) - Number(b)),
    powWindows: 1,
  };
}
