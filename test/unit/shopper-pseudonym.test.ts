import { createHash } from 'node:crypto';
import { shopperQuery } from '../../clients/shopper-workflows';
import { shopperPseudonym } from '../../api/services/shopper-pseudonym';

const SECRET = 'unit-erasure-secret-0123456789abcdef0123';

test('a pseudonym is erased: and 64 hex digits, the same for the same id and secret, another for another', () => {
  const alice = shopperPseudonym(SECRET, 'alice');
  expect(alice).toMatch(/^erased:[0-9a-f]{64}$/);
  expect(shopperPseudonym(SECRET, 'alice')).toBe(alice);
  expect(shopperPseudonym(SECRET, 'alicf')).not.toBe(alice);
  // Keyed: without the secret, hashing guesses finds nothing.
  expect(shopperPseudonym(`${SECRET}x`, 'alice')).not.toBe(alice);
  expect(alice).not.toContain(createHash('sha256').update('alice').digest('hex'));
});

test('the visibility query quotes the shopper id, escaping backslashes and double quotes', () => {
  expect(shopperQuery('alice')).toBe('ShopperId = "alice"');
  expect(shopperQuery('o"brien\\x')).toBe('ShopperId = "o\\"brien\\\\x"');
});
