-- Up Migration

-- The retention purge (workflows/retention-purge-workflow.ts, db/queries/retention-purge.ts)
-- deletes in batches of a few hundred rows, one short autocommit statement each; these indexes
-- let every batch find its rows without a scan.

-- A waiting room's queue tickets (and with them the proof-of-work challenges they spent) are purged
-- once the room has been sold out for the retention period. `tickets_purged_at` marks a room whose
-- purge has begun: the invariant checker no longer checks its queue (its tickets are going), and
-- the batches take tickets only from marked rooms.
alter table waiting_rooms add column tickets_purged_at timestamptz;
create index waiting_rooms_to_purge on waiting_rooms (sold_out_at)
  where sold_out_at is not null and tickets_purged_at is null;
create index waiting_rooms_purging on waiting_rooms (sale_id) where tickets_purged_at is not null;

-- A claim keeps its reservation when the ticket that admitted it is purged (migration 0013's
-- reference becomes null); the delete finds the claim through reservations_one_per_admission.
alter table reservations drop constraint reservations_queue_ticket_id_fkey;
alter table reservations add constraint reservations_queue_ticket_id_fkey
  foreign key (queue_ticket_id) references queue_tickets (id) on delete set null;

-- Webhook deliveries, kept for their deduplication window.
create index webhook_events_by_received on webhook_events (received_at);

-- Finished notices (sent, failed, dropped) by the time they finished; the purge's condition, word
-- for word.
create index notifications_finished on notifications ((coalesce(sent_at, failed_at, next_attempt_at)))
  where state in ('sent', 'failed', 'dropped');

-- Down Migration

drop index notifications_finished;
drop index webhook_events_by_received;
alter table reservations drop constraint reservations_queue_ticket_id_fkey;
alter table reservations add constraint reservations_queue_ticket_id_fkey
  foreign key (queue_ticket_id) references queue_tickets (id);
drop index waiting_rooms_purging;
drop index waiting_rooms_to_purge;
alter table waiting_rooms drop column tickets_purged_at;
