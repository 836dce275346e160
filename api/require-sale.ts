import type { SaleRow } from '../db/rows';
import { ErrorCode } from '../domain/errors';
import type { WaitingRoomSettings } from '../domain/waiting-room';
import { Problem } from './problem';
import { requireUuid } from './schemas';
import type { SaleCache } from './services/sale-cache';

/** A sale whose waiting room is on. */
export type RoomSale = SaleRow & { waiting_room: WaitingRoomSettings };

/** The sale a route's `:saleId` names: a 400 problem for a malformed id, a 404 for an unknown sale. */
export async function requireSale(sales: Pick<SaleCache, 'get'>, rawSaleId: unknown): Promise<SaleRow> {
  const sale = await sales.get(requireUuid(rawSaleId, 'sale'));
  if (!sale) throw new Problem(404, ErrorCode.NotFound, 'sale not found');
  return sale;
}

/** As requireSale, and a 404 when the sale has no waiting room. */
export async function requireRoomSale(sales: Pick<SaleCache, 'get'>, rawSaleId: unknown): Promise<RoomSale> {
  const sale = await requireSale(sales, rawSaleId);
  if (!sale.waiting_room) throw new Problem(404, ErrorCode.NotFound, 'this sale has no waiting room');
  return sale as RoomSale;
}
