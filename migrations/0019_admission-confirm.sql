-- Up Migration

-- Issue 21: an admission nobody uses comes back to the room soon (docs/DESIGN.md, "Waiting room").
-- An admission first runs for the room's `confirm_seconds` and is extended to `admission_seconds`
-- the first time its shopper is told "admitted" (queue/me or its stream); `DELETE …/queue/me`
-- ends it at once. `admitted_until` is when the admission ends, `left_at` when the shopper left
-- the room. Rooms created before this keep their behaviour: their confirm window is the whole
-- admission, and admissions already made end where they did.
alter table waiting_rooms add column confirm_seconds integer;
update waiting_rooms set confirm_seconds = admission_seconds;
alter table waiting_rooms alter column confirm_seconds set not null,
  add constraint waiting_rooms_confirm_seconds check (confirm_seconds > 0 and confirm_seconds <= admission_seconds);

alter table queue_tickets add column admitted_until timestamptz, add column left_at timestamptz;
update queue_tickets t set admitted_until = t.admitted_at + make_interval(secs => w.admission_seconds)
  from waiting_rooms w where w.sale_id = t.sale_id and t.admitted_at is not null;
-- The running admissions the admission step counts are still found through queue_tickets_admitted
-- (admitted within admission_seconds); the claim, the first sighting and the give-back reach one
-- ticket by its key.

-- Down Migration

alter table queue_tickets drop column admitted_until, drop column left_at;
alter table waiting_rooms drop constraint waiting_rooms_confirm_seconds, drop column confirm_seconds;
