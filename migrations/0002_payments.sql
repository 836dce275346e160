-- Up Migration

alter table reservations
  add column payment_method  text,
  add column payment_status  text check (payment_status in ('pending', 'captured', 'failed', 'refunded')),
  add column charge_id       text,
  add column failure_reason  text,
  add column paid_at         timestamptz;

-- Which gateway a reservation's charge goes to. Every request is counted before it is sent and
-- every refused connection after; only while the two counts are equal (no request can have
-- reached the gateway) may the charge move to the secondary, so it is never made on both.
create table payment_attempts (
  reservation_id  uuid primary key references reservations (id),
  gateway         text not null,
  attempts        integer not null default 0,
  refused         integer not null default 0,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now()
);

-- Every capture the provider reported for one of our reservations, and its refund if it was
-- not the one that bought the unit (invariants 3 and 4).
create table charges (
  id              text primary key,
  reservation_id  uuid not null references reservations (id),
  gateway         text not null,
  amount_cents    integer not null,
  currency        text not null,
  status          text not null check (status in ('captured', 'refunded')),
  refund_id       text,
  created_at      timestamptz not null default now(),
  refunded_at     timestamptz,
  check ((status = 'refunded') = (refund_id is not null))
);
create unique index charges_one_captured_per_reservation on charges (reservation_id) where status = 'captured';
create index charges_by_reservation on charges (reservation_id);

-- Webhook deliveries already handled; a repeat is answered 204 and changes nothing.
create table webhook_events (
  id            text primary key,
  type          text not null,
  charge_id     text not null,
  reference     text not null,
  received_at   timestamptz not null default now(),
  processed_at  timestamptz
);

-- Outcome notifications sent to shoppers, once per reservation and outcome.
create table notifications (
  reservation_id  uuid not null references reservations (id),
  outcome         text not null,
  sent_at         timestamptz not null default now(),
  primary key (reservation_id, outcome)
);

-- Down Migration

drop table notifications;
drop table webhook_events;
drop table charges;
drop table payment_attempts;
alter table reservations
  drop column payment_method,
  drop column payment_status,
  drop column charge_id,
  drop column failure_reason,
  drop column paid_at;
