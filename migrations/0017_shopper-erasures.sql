-- Up Migration

-- A shopper's erasure (POST /v1/admin/shoppers/{shopperId}/erase, api/services/erase-shopper.ts),
-- recorded before any of its work and marked done after the last: a crash half way leaves
-- `started`, and the next call runs the remaining steps (each finds only what is left). The key is
-- the shopper's pseudonym, `erased:` and the HMAC-SHA256 of their id under ERASURE_SECRET, so the
-- row names nobody: finding it needs the id and the secret. `erased` adds up, step by step and in
-- the step's own transaction, what each step pseudonymised or deleted.
create table shopper_erasures (
  pseudonym    text primary key check (pseudonym ~ '^erased:[0-9a-f]{64}$'),
  state        text not null default 'started' check (state in ('started', 'done')),
  attempts     integer not null default 1,
  erased       jsonb not null default '{}'::jsonb,
  started_at   timestamptz not null default now(),
  finished_at  timestamptz,
  check ((state = 'done') = (finished_at is not null))
);

-- GET /v1/me/export and the erasure look up everything of one shopper across sales: these lead
-- with the shopper (the existing indexes lead with the sale). Reservations are found through
-- reservations_by_shopper_newest (migrations/0016), which leads with user_id.
create index queue_tickets_by_shopper on queue_tickets (shopper_id);
create index waitlist_entries_by_user on waitlist_entries (user_id);
create index notifications_by_shopper on notifications (shopper_id) where shopper_id is not null;
-- Webhook events about a reservation (`reference` is the reservation id the provider echoes).
create index webhook_events_by_reference on webhook_events (reference);

-- Down Migration

drop index webhook_events_by_reference;
drop index notifications_by_shopper;
drop index waitlist_entries_by_user;
drop index queue_tickets_by_shopper;
drop table shopper_erasures;
