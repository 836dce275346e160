-- Up Migration

-- The checkout page follows a reservation and a waiting-room place over Server-Sent Events
-- (GET /v1/reservations/{id}/events, GET /v1/sales/{id}/queue/me/events): each API process
-- LISTENs on these channels with one connection (api/services/change-feed.ts) and re-reads only
-- when told. A NOTIFY is delivered at commit, so a listener never reads a change that is not
-- there yet.

-- A reservation's status, payment status or hold end (an extension) changed; never fired by the
-- relay's bookkeeping columns. Payload: the reservation id.
create function notify_reservation_changed() returns trigger
  language plpgsql as $$
begin
  perform pg_notify('reservation_changed', new.id::text);
  return null;
end
$$;

create trigger reservations_notify_changed
  after update of status, payment_status, expires_at on reservations
  for each row
  when (old.status is distinct from new.status
        or old.payment_status is distinct from new.payment_status
        or old.expires_at is distinct from new.expires_at)
  execute function notify_reservation_changed();

-- A waiting room's counters moved (the admission step ordered or admitted shoppers). Payload:
-- {"saleId", "serving", "assigned"}, enough for a waiting shopper's new place without a read.
create function notify_queue_moved() returns trigger
  language plpgsql as $$
begin
  perform pg_notify('queue_moved',
    json_build_object('saleId', new.sale_id, 'serving', new.serving, 'assigned', new.assigned)::text);
  return null;
end
$$;

create trigger waiting_rooms_notify_moved
  after update of serving, assigned on waiting_rooms
  for each row
  when (old.serving is distinct from new.serving or old.assigned is distinct from new.assigned)
  execute function notify_queue_moved();

-- Down Migration

drop trigger waiting_rooms_notify_moved on waiting_rooms;
drop function notify_queue_moved();
drop trigger reservations_notify_changed on reservations;
drop function notify_reservation_changed();
