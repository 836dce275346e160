import { decodeOrderCursor, encodeOrderCursor } from '../../api/order-cursor';

/* The order history's cursor: what the API hands out comes back whole; nothing else decodes. */
const ID = '0b9a6f52-3c1d-4e8f-9a7b-2c4d6e8f0a1b';
const encoded = (text: string) => Buffer.from(text).toString('base64url');

test('a cursor the API made decodes to the same position, to the microsecond', () => {
  const key = { createdAt: '2026-12-03T12:21:22.342851Z', id: ID };
  const cursor = encodeOrderCursor(key);
  expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(decodeOrderCursor(cursor)).toEqual(key);
});

test.each([
  ['empty', ''],
  ['not base64url', 'abc+/='],
  ['too long', 'A'.repeat(201)],
  ['no separator', encoded(`2026-12-03T12:21:22.342851Z${ID}`)],
  ['milliseconds only', encoded(`2026-12-03T12:21:22.342Z~${ID}`)],
  ['30 February', encoded(`2026-02-30T00:00:00.000000Z~${ID}`)],
  ['hour 24', encoded(`2026-01-01T24:00:00.000000Z~${ID}`)],
  ['before 1970', encoded(`1969-12-31T23:59:59.000000Z~${ID}`)],
  ['upper-case id', encoded(`2026-01-01T00:00:00.000000Z~${ID.toUpperCase()}`)],
  ['trailing bytes', encoded(`2026-01-01T00:00:00.000000Z~${ID}\n`)],
])('refuses %s', (_, cursor) => {
  expect(decodeOrderCursor(cursor)).toBeUndefined();
});
