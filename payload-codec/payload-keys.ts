/** An AES-256 key and the id written beside every payload it encrypts. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** The key new payloads are encrypted with, and every key a payload may name when it is decrypted. */
export interface PayloadKeyring {
  encryptWith: PayloadKey;
  byId: ReadonlyMap<string, Buffer>;
}

const KEY_ID = /^[A-Za-z0-9._-]{1,32}$/;
/** The longest key id: workflow-metadata.ts budgets the encrypted summary's size with it. */
export const MAX_KEY_ID_LENGTH = 32;
const KEY_BYTES = 32;

/**
 * `id1:base64,id2:base64` (TEMPORAL_PAYLOAD_KEYS): the first key encrypts, all of them decrypt,
 * so a new key goes first and the old one stays behind it until no history needs it. Throws
 * naming the offending entry by position and id, never a key.
 */
export function parsePayloadKeys(text: string): PayloadKeyring {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) throw new Error('no key: expected id:base64key[,id:base64key…]');
  const keys = entries.map((entry, index): PayloadKey => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    if (!KEY_ID.test(id)) throw new Error(`entry ${index + 1}: expected id:base64key with an id of 1–32 of A-Z a-z 0-9 . _ -`);
    const encoded = entry.slice(colon + 1);
    const key = Buffer.from(encoded, 'base64');
    if (key.toString('base64') !== encoded || key.length !== KEY_BYTES)
      throw new Error(`key ${id}: must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
    return { id, key };
  });
  const byId = new Map<string, Buffer>();
  for (const { id, key } of keys) {
    if (byId.has(id)) throw new Error(`key ${id}: listed twice`);
    byId.set(id, key);
  }
  return { encryptWith: keys[0]!, byId };
}
