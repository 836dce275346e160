-- Up Migration

-- The checkout page follows its reservation over Server-Sent Events
-- (GET /v1/reservations/{id}/events): each API process LISTENs on `reservation_changed` and
-- re-reads a reservation only when this says it moved. Fired by a change of status, payment
-- status or hold end (an extension), never by the relay's bookkeeping columns; the payload is the
-- reservation id. A NOTIFY is delivered at commit, so a listener never reads a change that is
-- not there yet.
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

-- Down Migration

drop trigger reservations_notify_changed on reservations;
drop function notify_reservation_changed();
