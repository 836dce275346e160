-- Up Migration

create table sales (
  id            uuid primary key,
  sku           text not null,
  name          text not null,
  units         integer not null check (units > 0),
  price_cents   integer not null check (price_cents > 0),
  currency      text not null check (currency ~ '^[A-Z]{3}$'),
  starts_at     timestamptz not null,
  hold_seconds  integer not null check (hold_seconds > 0),
  -- Units are spread round-robin over `stripes`; a claim starts at a random stripe so
  -- concurrent claimers do not queue on the same head rows (see docs/DESIGN.md).
  stripes       integer not null check (stripes > 0),
  created_at    timestamptz not null default now()
);

-- One row per unit. `status` alone says where the unit is, so it can never be both
-- available and held; `reservation_id` names the reservation holding or owning it.
create table units (
  sale_id         uuid not null references sales (id),
  id              integer not null,
  stripe          integer not null,
  status          text not null default 'available' check (status in ('available', 'held', 'sold')),
  reservation_id  uuid,
  primary key (sale_id, id),
  check ((status = 'available') = (reservation_id is null))
);

-- The claim's index: only available units, ordered the way the claim scans them.
create index units_claimable on units (sale_id, stripe, id) where status = 'available';
-- Counts per status for GET /v1/sales/:id and the invariant checker.
create index units_by_status on units (sale_id, status);

create table reservations (
  id               uuid primary key,
  sale_id          uuid not null references sales (id),
  unit_id          integer not null,
  user_id          text not null,
  status           text not null check (status in ('held', 'payment_pending', 'paid', 'expired', 'cancelled', 'payment_failed')),
  idempotency_key  text,
  expires_at       timestamptz not null,
  created_at       timestamptz not null default now(),
  released_at      timestamptz,
  -- Transactional outbox: the claim commits the reservation with this null, the outbox relay
  -- starts `reservation-<id>` and sets it. A crash in between leaves the row for the next relay.
  workflow_started_at  timestamptz,
  relay_lease_until    timestamptz,
  foreign key (sale_id, unit_id) references units (sale_id, id)
);

-- Invariant 2: one live reservation per shopper per sale.
create unique index reservations_one_live_per_shopper
  on reservations (sale_id, user_id) where status in ('held', 'payment_pending', 'paid');
-- A unit is held or owned by at most one live reservation. unit_id leads so the planner never
-- takes this index for the per-shopper lookup above (it did, scanning a sale's every hold).
create unique index reservations_one_live_per_unit
  on reservations (unit_id, sale_id) where status in ('held', 'payment_pending', 'paid');
-- Claim replays: the same Idempotency-Key from the same shopper for the same sale.
create unique index reservations_idempotency_key
  on reservations (sale_id, user_id, idempotency_key) where idempotency_key is not null;
-- Holds that should have ended: what a reconciler or the invariant checker looks for.
create index reservations_open_by_expiry
  on reservations (expires_at) where status in ('held', 'payment_pending');

-- The relay's queue: reservations whose workflow has not been started yet.
create index reservations_awaiting_workflow
  on reservations (created_at) where workflow_started_at is null;

-- Down Migration

drop table reservations;
drop table units;
drop table sales;
