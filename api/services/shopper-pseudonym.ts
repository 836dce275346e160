import { createHmac } from 'node:crypto';
import { PSEUDONYM_PREFIX } from '../../domain/shopper-data';

/*
 * What an erased shopper's kept rows carry instead of their id: `erased:` and the HMAC-SHA256 of
 * the id under ERASURE_SECRET, in hex. Keyed, not random: the same shopper always gets the same
 * pseudonym, so a retried or repeated erasure finds its own row (migrations/0017) and the
 * shopper's kept rows stay together, with no table mapping ids to pseudonyms. Keyed, not a plain
 * hash: shopper ids are guessable (`alice`), and without the secret no one can test a guess.
 * Whoever holds the secret can check whether a given id was erased, and nothing more.
 */
export function shopperPseudonym(erasureSecret: string, shopperId: string): string {
  return PSEUDONYM_PREFIX + createHmac('sha256', erasureSecret).update(shopperId, 'utf8').digest('hex');
}
