import type { OrderKey } from '../db/queries/list-shopper-orders';

/*
 * The order history's `cursor`: the last row's keyset position (created_at to the microsecond,
 * and id), base64url-encoded so clients treat it as opaque. Decoding checks every part, so a
 * forged or damaged cursor is a 400, never a value Postgres refuses (a 500).
 */
const KEY =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{6})Z~([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const BASE64URL = /^[A-Za-z0-9_-]{1,200}$/;

export function encodeOrderCursor(key: OrderKey): string {
  return Buffer.from(`${key.createdAt}~${key.id}`, 'utf8').toString('base64url');
}

/** The position a cursor names, or undefined when it is not one this API made. */
export function decodeOrderCursor(cursor: string): OrderKey | undefined {
  if (!BASE64URL.test(cursor)) return undefined;
  const match = KEY.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  // A real instant: the date and time survive a round trip through Date (no 30 February, no hour 25).
  const at = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
  const real =
    year! >= 1970 &&
    at.getUTCFullYear() === year &&
    at.getUTCMonth() === month! - 1 &&
    at.getUTCDate() === day &&
    at.getUTCHours() === hour &&
    at.getUTCMinutes() === minute &&
    at.getUTCSeconds() === second;
  if (!real) return undefined;
  const createdAt = match[0].slice(0, match[0].indexOf('~'));
  return { createdAt, id: match[8]! };
}
