-- Up Migration

-- The checkout page follows a shopper's waitlist entry over Server-Sent Events
-- (GET /v1/sales/{id}/waitlist/me/events, api/routes/waitlist-events.ts). An entry leaving
-- `waiting` (a released unit offered to it, or its turn passed over) moves every later shopper up
-- one place and, for its own shopper, carries the offer: the offer's reservation is inserted in
-- the same transaction, so a listener that re-reads at the notification (delivered at commit)
-- finds it. Payload: the sale id.
create function notify_waitlist_moved() returns trigger
  language plpgsql as $$
begin
  perform pg_notify('waitlist_moved', new.sale_id::text);
  return null;
end
$$;

create trigger waitlist_entries_notify_moved
  after update of state on waitlist_entries
  for each row
  when (old.state is distinct from new.state)
  execute function notify_waitlist_moved();

-- Down Migration

drop trigger waitlist_entries_notify_moved on waitlist_entries;
drop function notify_waitlist_moved();
