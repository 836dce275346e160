-- Up Migration

-- Support's hold extensions (the reservation workflow's `extendHold` update): who extended a
-- hold, when, by how much and why. `seq` numbers a reservation's extensions in the order its
-- workflow accepted them, so the activity that writes one can be retried without writing it
-- twice. The reservation's own `expires_at` moves in the same statement.
create table hold_extensions (
  reservation_id  uuid not null references reservations (id),
  seq             integer not null check (seq > 0),
  seconds         integer not null check (seconds > 0),
  extended_by     text not null,
  reason          text,
  expires_at      timestamptz not null,
  created_at      timestamptz not null default now(),
  primary key (reservation_id, seq)
);

-- Down Migration

drop table hold_extensions;
