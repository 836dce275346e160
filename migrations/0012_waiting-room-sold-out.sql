-- Up Migration

-- A waiting room is over once nothing can come back: no unit available and none held (every unit
-- sold or withdrawn). The admission step (db/queries/admission.ts `admitStep`) records that
-- moment here, once; queue/me and its stream then answer `sold-out` to everyone still queued
-- instead of an estimated wait (docs/DESIGN.md, "Waiting room"). The queue_moved notification
-- carries it, so each API process learns it without a read per waiting shopper.
alter table waiting_rooms add column sold_out_at timestamptz;

create or replace function notify_queue_moved() returns trigger
  language plpgsql as $$
begin
  perform pg_notify('queue_moved',
    json_build_object('saleId', new.sale_id, 'serving', new.serving, 'assigned', new.assigned,
                      'soldOut', new.sold_out_at is not null)::text);
  return null;
end
$$;

drop trigger waiting_rooms_notify_moved on waiting_rooms;
create trigger waiting_rooms_notify_moved
  after update of serving, assigned, sold_out_at on waiting_rooms
  for each row
  when (old.serving is distinct from new.serving or old.assigned is distinct from new.assigned
        or old.sold_out_at is distinct from new.sold_out_at)
  execute function notify_queue_moved();

-- Down Migration

drop trigger waiting_rooms_notify_moved on waiting_rooms;
create trigger waiting_rooms_notify_moved
  after update of serving, assigned on waiting_rooms
  for each row
  when (old.serving is distinct from new.serving or old.assigned is distinct from new.assigned)
  execute function notify_queue_moved();

create or replace function notify_queue_moved() returns trigger
  language plpgsql as $$
begin
  perform pg_notify('queue_moved',
    json_build_object('saleId', new.sale_id, 'serving', new.serving, 'assigned', new.assigned)::text);
  return null;
end
$$;

alter table waiting_rooms drop column sold_out_at;
