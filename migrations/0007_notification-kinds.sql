-- Up Migration

-- Notices of any kind, not only a reservation's outcome: `hold-reminder`, `waitlist-offer` and
-- `sold-out` join `paid`, `payment_failed`, `expired` and `cancelled` (worker/notification-kinds.ts).
-- A notice is about a subject: a reservation, or a sale and one of its shoppers (a queued shopper
-- told the sale sold out has no reservation). `subject` spells it as one key, and (subject, kind)
-- is unique, so a notice exists once whichever worker or retry inserts it first.
--
-- Two ways a notice goes out:
--   * outcome notices: the reservation workflow's notifyOutcome activity claims the row (pending
--     with a lease), sends and marks it sent; Temporal retries it. `next_attempt_at` stays null.
--   * every other kind: the worker's notification dispatcher (worker/notification-dispatcher.ts)
--     inserts the row when the notice becomes due, leases due rows with FOR UPDATE SKIP LOCKED,
--     sends, and marks them sent; a failed send is retried at `next_attempt_at` with backoff
--     until its attempts run out, then the row is `failed` (logged, counted in metrics).
--   A notice the dispatcher finds no longer true when it sends (the hold was paid meanwhile) is
--   `dropped`.
-- Existing rows are outcome notices of a reservation and keep their state.
alter table notifications drop constraint notifications_pkey;
alter table notifications rename column outcome to kind;
alter table notifications
  add column id bigint generated always as identity primary key,
  alter column reservation_id drop not null,
  add column sale_id uuid references sales (id),
  add column shopper_id text,
  add column subject text generated always as (
    coalesce(reservation_id::text, 'sale:' || sale_id::text || ':shopper:' || shopper_id)
  ) stored,
  add column next_attempt_at timestamptz,
  add column last_error text,
  add column failed_at timestamptz,
  add constraint notifications_has_subject check (
    reservation_id is not null or (sale_id is not null and shopper_id is not null)
  );

alter table notifications drop constraint notifications_state_check;
alter table notifications
  add constraint notifications_state_check check (state in ('pending', 'sent', 'failed', 'dropped')),
  add constraint notifications_failed_has_time check ((state = 'failed') = (failed_at is not null));

create unique index notifications_once_per_subject_and_kind on notifications (subject, kind);
-- The outcome path's claim and the dispatcher's "already noticed" checks look up by reservation.
create index notifications_by_reservation on notifications (reservation_id, kind) where reservation_id is not null;
-- The dispatcher's work list: its pending notices by the time they are due.
create index notifications_due on notifications (next_attempt_at) where state = 'pending' and next_attempt_at is not null;
-- Waitlist offers still to be told: the dispatcher looks for held reservations a release offered.
create index reservations_waitlist_offers on reservations (created_at) where origin = 'waitlist' and status = 'held';

-- Down Migration

drop index reservations_waitlist_offers;
delete from notifications where reservation_id is null or kind not in ('paid', 'payment_failed', 'expired', 'cancelled');
update notifications set state = 'pending', failed_at = null where state = 'failed';
delete from notifications where state = 'dropped';
drop index notifications_due;
drop index notifications_by_reservation;
drop index notifications_once_per_subject_and_kind;
alter table notifications
  drop constraint notifications_failed_has_time,
  drop constraint notifications_state_check,
  add constraint notifications_state_check check (state in ('pending', 'sent'));
alter table notifications
  drop constraint notifications_has_subject,
  drop column failed_at,
  drop column last_error,
  drop column next_attempt_at,
  drop column subject,
  drop column shopper_id,
  drop column sale_id,
  drop column id,
  alter column reservation_id set not null;
alter table notifications rename column kind to outcome;
alter table notifications add primary key (reservation_id, outcome);
