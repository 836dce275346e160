-- Up Migration

-- What happens to a unit that comes back (hold expired, cancelled, payment failed), chosen when
-- the sale is created: `relist` makes it available again (the behaviour before this migration),
-- `undersell` withdraws it for good, `waitlist` hands it to the next shopper on the sale's
-- waitlist as a new hold (available again only while nobody waits). See docs/CONTRACT.md.
alter table sales
  add column release_policy text not null default 'relist' check (release_policy in ('relist', 'waitlist', 'undersell'));

-- `withdrawn`: an undersell sale's released unit; it has no reservation and is never claimed
-- (the claim's index, units_claimable, covers `available` units only).
alter table units
  drop constraint units_status_check,
  add constraint units_status_check check (status in ('available', 'held', 'sold', 'withdrawn')),
  drop constraint units_check,
  add constraint units_reservation_check check ((status in ('available', 'withdrawn')) = (reservation_id is null));

-- How a reservation came to be: a shopper's claim, or a waitlist offer made by a release.
alter table reservations
  add column origin text not null default 'claim' check (origin in ('claim', 'waitlist'));

-- One entry per shopper and sale, FIFO by `id`. `waiting` until a released unit is offered
-- (`offered`, with the offer's reservation) or the shopper's turn came while they already held
-- or owned a unit of the sale (`passed_over`).
create table waitlist_entries (
  id              bigint generated always as identity primary key,
  sale_id         uuid not null references sales (id),
  user_id         text not null,
  state           text not null default 'waiting' check (state in ('waiting', 'offered', 'passed_over')),
  reservation_id  uuid references reservations (id),
  joined_at       timestamptz not null default now(),
  offered_at      timestamptz,
  unique (sale_id, user_id),
  check ((state = 'offered') = (reservation_id is not null))
);

-- The head of a sale's waitlist (the release takes it with FOR UPDATE SKIP LOCKED), a shopper's
-- position (count of waiting entries before theirs) and the sale's waiting count.
create index waitlist_waiting on waitlist_entries (sale_id, id) where state = 'waiting';

-- Down Migration

drop table waitlist_entries;
alter table reservations drop column origin;
update units set status = 'available' where status = 'withdrawn';
alter table units
  drop constraint units_reservation_check,
  add constraint units_check check ((status = 'available') = (reservation_id is null)),
  drop constraint units_status_check,
  add constraint units_status_check check (status in ('available', 'held', 'sold'));
alter table sales drop column release_policy;
