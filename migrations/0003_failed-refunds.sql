-- Up Migration

-- A capture whose refund the provider refused for good (or that could not be refunded within
-- the refund's retry bound): kept as `refund_failed` with the provider's reason, so the invariant
-- checker names it (invariant 4) and support can settle it by hand.
alter table charges
  drop constraint charges_status_check,
  add constraint charges_status_check check (status in ('captured', 'refunded', 'refund_failed')),
  add column refund_failure    text,
  add column refund_failed_at  timestamptz,
  add constraint charges_refund_failure_check check ((status = 'refund_failed') = (refund_failure is not null));

create index charges_refund_failed on charges (reservation_id) where status = 'refund_failed';

-- Down Migration

drop index charges_refund_failed;
delete from charges where status = 'refund_failed';
alter table charges
  drop constraint charges_refund_failure_check,
  drop column refund_failed_at,
  drop column refund_failure,
  drop constraint charges_status_check,
  add constraint charges_status_check check (status in ('captured', 'refunded'));
