import fc from 'fast-check';
import { noticeMessageId, shopperAddress } from '../../notifications/notifier';

const DOMAIN = 'shoppers.invalid';
const localPart = (shopperId: string) => shopperAddress(shopperId, DOMAIN).slice(0, -`@${DOMAIN}`.length);

/** Shopper ids as the API accepts them (api/auth.ts): no control characters, no lone surrogates. */
const shopperId = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => !/[\p{Cc}\p{Cs}]/u.test(s));
/** Ids built from the characters most likely to collide: separators, case, the escape character itself. */
const confusable = fc.string({
  unit: fc.constantFrom('a', 'A', 'b', '/', '_', '.', ':', '+', '-', '=', '@', ' ', 'é'),
  minLength: 1,
});

test('two shoppers differing only in a character SMTP cannot carry get different mailboxes', () => {
  expect(shopperAddress('a/b', DOMAIN)).not.toBe(shopperAddress('a_b', DOMAIN));
  expect(shopperAddress('Alice', DOMAIN)).not.toBe(shopperAddress('alice', DOMAIN));
  expect(shopperAddress('alice+x', DOMAIN)).not.toBe(shopperAddress('alice', DOMAIN));
});

test('ids of lower-case letters, digits and hyphens keep their address', () => {
  expect(shopperAddress('alice', DOMAIN)).toBe('alice@shoppers.invalid');
  expect(shopperAddress('paid-0b6e2c1e-5a8f-4c39-9d55-2f3c0a7b8e11', DOMAIN)).toBe(
    'paid-0b6e2c1e-5a8f-4c39-9d55-2f3c0a7b8e11@shoppers.invalid',
  );
});

test('distinct shopper ids never share a mailbox, even where mail servers ignore case', () => {
  for (const ids of [shopperId, confusable])
    fc.assert(
      fc.property(ids, ids, (a, b) => {
        fc.pre(a !== b);
        expect(localPart(a).toLowerCase()).not.toBe(localPart(b).toLowerCase());
      }),
      { numRuns: 2_000 },
    );
});

test('every address is a plain dot-atom local part SMTP accepts unquoted', () => {
  fc.assert(
    fc.property(shopperId, (id) => {
      expect(localPart(id)).toMatch(/^[a-z0-9_-]+$/);
    }),
  );
});

test('two notices never share a Message-ID, whatever their shoppers are called', () => {
  const key = (shopper: string) => `sale:0b6e2c1e-5a8f-4c39-9d55-2f3c0a7b8e11:shopper:${shopper}:sold-out`;
  expect(noticeMessageId('0b6e2c1e-5a8f-4c39-9d55-2f3c0a7b8e11:payment_failed', DOMAIN)).toBe(
    '<0b6e2c1e-5a8f-4c39-9d55-2f3c0a7b8e11.payment_failed@shoppers.invalid>',
  );
  fc.assert(
    fc.property(confusable, confusable, (a, b) => {
      fc.pre(a !== b);
      expect(noticeMessageId(key(a), DOMAIN)).not.toBe(noticeMessageId(key(b), DOMAIN));
    }),
    { numRuns: 2_000 },
  );
});
