-- Up Migration

-- An admission to a waiting-room sale is spent by its shopper's first claim (docs/DESIGN.md,
-- "Waiting room"): the claim records the queue ticket it was admitted with, and this unique index
-- makes that record the only one. A second claim with the same ticket, after the first was
-- cancelled, expired or declined, finds it and is refused; two at once, in any API process,
-- cannot both insert (the loser's statement rolls back with its unit). Null on claims of sales
-- without a waiting room and on waitlist offers.
alter table reservations add column queue_ticket_id uuid references queue_tickets (id);

create unique index reservations_one_per_admission on reservations (queue_ticket_id) where queue_ticket_id is not null;

-- Down Migration

drop index reservations_one_per_admission;
alter table reservations drop column queue_ticket_id;
