-- Up Migration

-- A shopper's order history (GET /v1/me/reservations), newest first across every sale: the
-- equality on user_id, then the keyset (created_at, id) after the cursor's row, in the index's
-- own order, so a page is one range scan that stops after `limit` rows and needs no sort.
create index reservations_by_shopper_newest on reservations (user_id, created_at desc, id desc);

-- Down Migration

drop index reservations_by_shopper_newest;
