import type { Queryable } from '../pool';

/** What every waiting shopper's view of a room shares (api/services/waiting-room.ts keeps it per process). */
export interface RoomCounters {
  /** Positions 1..serving are admitted ("now serving"); 1..assigned are given out. */
  serving: number;
  assigned: number;
  /** Nothing available and nothing held any more (db/queries/admission.ts `admitStep`). */
  soldOut: boolean;
  startsAtMs: number;
  /** When this process read them (its clock). */
  readAt: number;
}

export async function roomCounters(db: Queryable, saleId: string): Promise<Omit<RoomCounters, 'readAt'>> {
  const { rows } = await db.query<{ serving: number; assigned: number; sold_out: boolean; starts_at: Date }>({
    name: 'waiting-room-counters',
    text: `select w.serving, w.assigned, w.sold_out_at is not null as sold_out, s.starts_at
           from waiting_rooms w join sales s on s.id = w.sale_id where w.sale_id = $1::uuid`,
    values: [saleId],
  });
  const row = rows[0];
  return {
    serving: row?.serving ?? 0,
    assigned: row?.assigned ?? 0,
    soldOut: row?.sold_out ?? false,
    startsAtMs: row?.starts_at.getTime() ?? 0,
  };
}

/** The shoppers given positions in (after, upTo]: the shuffle's and the ordered arrivals' places, in one read. */
export async function positionsGiven(
  db: Queryable,
  saleId: string,
  after: number,
  upTo: number,
): Promise<Array<{ shopper_id: string; position: number }>> {
  const { rows } = await db.query<{ shopper_id: string; position: number }>({
    name: 'queue-positions-given',
    text: `select shopper_id, position from queue_tickets
           where sale_id = $1::uuid and position > $2::int and position <= $3::int`,
    values: [saleId, after, upTo],
  });
  return rows;
}
