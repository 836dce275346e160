-- Up Migration

-- Outcome e-mails are claimed here before they are sent, so that any number of workers, and any
-- retry, send a reservation's notice of one outcome once: a claimant writes `pending` with a
-- lease, sends, then marks the row `sent`. A claimant that dies after sending leaves `pending`
-- behind; once the lease lapses another may claim it and send again (at-least-once; the
-- duplicate carries the same Message-ID). Rows written before this migration were sent.
alter table notifications
  add column state text not null default 'sent' check (state in ('pending', 'sent')),
  add column lease_until timestamptz,
  add column attempts integer not null default 1,
  alter column sent_at drop not null;

alter table notifications
  add constraint notifications_sent_has_time check ((state = 'sent') = (sent_at is not null));

-- Down Migration

alter table notifications drop constraint notifications_sent_has_time;
delete from notifications where state = 'pending';
alter table notifications
  alter column sent_at set not null,
  drop column attempts,
  drop column lease_until,
  drop column state;
