-- Up Migration

-- A sale's waiting room (issue 9), present only for sales created with `waitingRoom`; a sale
-- without a row here is claimed as before. docs/DESIGN.md, "Waiting room", explains the model.
create table waiting_rooms (
  sale_id            uuid primary key references sales (id),
  admit_per_second   integer not null check (admit_per_second > 0),
  admission_seconds  integer not null check (admission_seconds > 0),
  pow_difficulty     integer not null check (pow_difficulty between 0 and 32),
  -- The pre-queue shuffle, done once at the start: the seed (hex), and how many tickets it ordered.
  shuffle_seed       text,
  shuffled_at        timestamptz,
  prequeue_size      integer,
  -- Positions 1..assigned are given out; 1..serving are admitted ("now serving").
  assigned           integer not null default 0,
  serving            integer not null default 0 check (serving <= assigned),
  serving_updated_at timestamptz,
  -- Outbox of the admission workflow `admission-<sale id>`: the worker's relay starts it and sets this.
  workflow_started_at timestamptz,
  created_at         timestamptz not null default now()
);

create index waiting_rooms_awaiting_workflow on waiting_rooms (created_at) where workflow_started_at is null;

-- Arrival order across all sales; within one sale it orders the arrivals after the start (FIFO).
create sequence queue_arrival_seq as bigint;

create table queue_tickets (
  id            uuid primary key,
  sale_id       uuid not null references waiting_rooms (sale_id),
  shopper_id    text not null,
  -- The random id of the proof-of-work challenge this ticket was bought with: unique, so a
  -- solution is spent by the insert that records it (the replay guard needs no other write).
  challenge_id  text not null,
  arrival       bigint not null default nextval('queue_arrival_seq'),
  joined_at     timestamptz not null default now(),
  -- Null until the admission workflow orders the ticket (the shuffle, or FIFO after the start).
  position      integer,
  admitted_at   timestamptz,
  check (admitted_at is null or position is not null)
);

create unique index queue_tickets_one_per_shopper on queue_tickets (sale_id, shopper_id);
create unique index queue_tickets_challenge_once on queue_tickets (challenge_id);
create unique index queue_tickets_by_position on queue_tickets (sale_id, position) where position is not null;
-- The admission step's work list: tickets not yet ordered, oldest arrival first.
create index queue_tickets_unordered on queue_tickets (sale_id, arrival) where position is null;
-- Admissions still running (counted against the units left).
create index queue_tickets_admitted on queue_tickets (sale_id, admitted_at) where admitted_at is not null;

-- The admission step asks, per running admission, whether its shopper has claimed in the sale.
create index reservations_by_shopper on reservations (sale_id, user_id);

-- Down Migration

drop index reservations_by_shopper;
drop table queue_tickets;
drop sequence queue_arrival_seq;
drop table waiting_rooms;
