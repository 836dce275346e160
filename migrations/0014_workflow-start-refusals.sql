-- Up Migration

-- A reservation whose workflow Temporal refused to start for good (worker/outbox-relay.ts): why,
-- and when the relay gave its unit back instead. Such a row keeps workflow_started_at null, so
-- the relay's queue (reservations_awaiting_workflow) leaves it out from now on.
alter table reservations
  add column start_refused_at timestamptz,
  add column start_refusal text;

drop index reservations_awaiting_workflow;
create index reservations_awaiting_workflow
  on reservations (created_at) where workflow_started_at is null and start_refused_at is null;

-- The dashboard's count per sale (api/services/sale-feed.ts).
create index reservations_start_refused on reservations (sale_id) where start_refused_at is not null;

-- Down Migration

drop index reservations_start_refused;
drop index reservations_awaiting_workflow;
create index reservations_awaiting_workflow on reservations (created_at) where workflow_started_at is null;
alter table reservations drop column start_refusal, drop column start_refused_at;
