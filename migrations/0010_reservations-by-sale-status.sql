-- Up Migration

-- Support staff page through a sale's reservations of one status, oldest first
-- (GET /v1/admin/sales/{saleId}/reservations?status=…&cursor=…): the keyset (created_at, id)
-- after the cursor's row is a range scan of this index.
create index reservations_by_sale_status on reservations (sale_id, status, created_at, id);

-- Down Migration

drop index reservations_by_sale_status;
