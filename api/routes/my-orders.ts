import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { listShopperOrders, type ShopperOrderRow } from '../../db/queries/list-shopper-orders';
import { ErrorCode } from '../../domain/errors';
import { ORDER_PAGE_DEFAULT, ORDER_PAGE_MAX, type OrderPage, type OrderView } from '../../domain/order-history';
import { principalOf, type createAuth } from '../auth';
import { decodeOrderCursor, encodeOrderCursor } from '../order-cursor';
import { Problem } from '../problem';

export interface MyOrdersDeps {
  pool: Pool;
  auth: ReturnType<typeof createAuth>;
}

const pageQuery = z
  .object({
    // Decimal digits only: `Number()` would also take ` 5`, `1e1` or `0x10`.
    limit: z
      .string()
      .regex(/^[1-9]\d{0,2}$/, 'a whole number from 1')
      .transform(Number)
      .pipe(z.number().max(ORDER_PAGE_MAX))
      .default(ORDER_PAGE_DEFAULT),
    cursor: z.string().optional(),
  })
  .strict();

export function toOrderView(row: ShopperOrderRow): OrderView {
  return {
    id: row.id,
    saleId: row.sale_id,
    saleName: row.sale_name,
    status: row.status,
    priceCents: row.price_cents,
    currency: row.currency,
    ...(row.payment_status && {
      payment: { status: row.payment_status, capturedCents: row.captured_cents, refundedCents: row.refunded_cents },
    }),
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
    paidAt: row.paid_at?.toISOString() ?? null,
    endedAt: row.released_at?.toISOString() ?? null,
  };
}

/**
 * GET /v1/me/reservations?limit=&cursor=: the signed-in shopper's reservations across every sale,
 * newest first, keyset-paged (db/queries/list-shopper-orders.ts). Only a shopper token: the
 * subject is the token's, never a parameter. The per-shopper rate limit is mounted in api/app.ts.
 */
export function myOrdersRouter(deps: MyOrdersDeps): Router {
  const router = Router();

  router.get('/v1/me/reservations', deps.auth.shopper, async (req, res) => {
    const principal = principalOf(res);
    if (principal.kind !== 'shopper') throw new Problem(401, ErrorCode.Unauthorized, 'the order history needs a shopper token');
    const parsed = pageQuery.safeParse(req.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Problem(400, ErrorCode.InvalidRequest, `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
    }
    const { limit, cursor } = parsed.data;
    const after = cursor === undefined ? undefined : decodeOrderCursor(cursor);
    if (cursor !== undefined && !after)
      throw new Problem(400, ErrorCode.InvalidRequest, 'cursor: not a cursor of this list (send the nextCursor of a page)');
    const page = await listShopperOrders(deps.pool, { shopperId: principal.shopperId, limit, ...(after && { after }) });
    const last = page.rows.at(-1);
    const body: OrderPage = {
      items: page.rows.map(toOrderView),
      nextCursor: page.more && last ? encodeOrderCursor({ createdAt: last.created_key, id: last.id }) : null,
    };
    // One shopper's own data: no shared cache may keep it.
    res.setHeader('Cache-Control', 'no-store');
    res.json(body);
  });

  return router;
}
