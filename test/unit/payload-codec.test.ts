import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createEncryptionCodec, encryptedPayloadBytes, METADATA_ENCRYPTION_KEY_ID } from '../../payload-codec/encryption-codec';
import { parsePayloadKeys } from '../../payload-codec/payload-keys';
import { loadApiConfig } from '../../api/config';
import { loadWorkerConfig } from '../../worker/config';
import { TEST_SECRETS } from '../helpers/app-under-test';

const key = (text: string) => Buffer.from(text.padEnd(32, '.').slice(0, 32)).toString('base64');
const OLD = `old:${key('the old key')}`;
const NEW = `new:${key('the new key')}`;
const shopper = 'alice@example.com';
const payloadOf = (value: unknown) => defaultPayloadConverter.toPayload(value)!;
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

describe('the payload codec (AES-256-GCM)', () => {
  const codec = createEncryptionCodec(parsePayloadKeys(OLD));

  test('round trip: the encoded payload hides the value and its encoding, decode gives it back', async () => {
    const plain = payloadOf({ shopperId: shopper, amountCents: 99_900 });
    const [encoded] = await codec.encode([plain]);
    expect(text(encoded!.metadata![METADATA_ENCODING_KEY])).toBe('binary/encrypted');
    expect(text(encoded!.metadata![METADATA_ENCRYPTION_KEY_ID])).toBe('old');
    expect(text(encoded!.data)).not.toContain(shopper);
    expect(text(encoded!.data)).not.toContain('json/plain');
    const [decoded] = await codec.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual({ shopperId: shopper, amountCents: 99_900 });
  });

  test('every payload gets its own IV: the same value twice encrypts differently', async () => {
    const [a, b] = await codec.encode([payloadOf(shopper), payloadOf(shopper)]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
  });

  test('a tampered payload fails authentication', async () => {
    const [encoded] = await codec.encode([payloadOf(shopper)]);
    const data = Buffer.from(encoded!.data!);
    data[20]! ^= 1;
    await expect(codec.decode([{ ...encoded!, data }])).rejects.toThrow(/key old failed authentication/);
  });

  test('a payload under a key id the keyring lacks names that id', async () => {
    const [encoded] = await createEncryptionCodec(parsePayloadKeys(NEW)).encode([payloadOf(shopper)]);
    await expect(codec.decode([encoded!])).rejects.toThrow(/encrypted with key new, which TEMPORAL_PAYLOAD_KEYS does not hold/);
  });

  test('rotation: with a new key first, new payloads use it and those under the old key still decrypt', async () => {
    const [underOld] = await codec.encode([payloadOf('written before the rotation')]);
    const rotated = createEncryptionCodec(parsePayloadKeys(`${NEW},${OLD}`));
    const [underNew] = await rotated.encode([payloadOf('written after')]);
    expect(text(underNew!.metadata![METADATA_ENCRYPTION_KEY_ID])).toBe('new');
    const decoded = await rotated.decode([underOld!, underNew!]);
    expect(decoded.map((payload) => defaultPayloadConverter.fromPayload(payload))).toEqual([
      'written before the rotation',
      'written after',
    ]);
  });

  test('plain payloads (histories from before encryption) pass through on decode', async () => {
    const plain: Payload = payloadOf({ status: 'held' });
    const [decoded] = await codec.decode([plain]);
    expect(decoded).toBe(plain);
  });

  test('encryptedPayloadBytes is the serialized size of what encode returns', async () => {
    for (const value of ['', 'XPhone 15 · alice · unit 3', 'x'.repeat(300), '雪'.repeat(5_000)]) {
      const plain = payloadOf(value);
      const [encoded] = await codec.encode([plain]);
      expect(temporal.api.common.v1.Payload.encode(encoded!).finish().length).toBe(
        encryptedPayloadBytes(temporal.api.common.v1.Payload.encode(plain).finish().length, 'old'.length),
      );
    }
  });
});

describe('TEMPORAL_PAYLOAD_KEYS', () => {
  const withKeys = (value: string | undefined) => ({ ...TEST_SECRETS, TEMPORAL_PAYLOAD_KEYS: value });

  test('the API and the worker refuse to start without it, naming it', () => {
    expect(() => loadApiConfig(withKeys(undefined))).toThrow(/TEMPORAL_PAYLOAD_KEYS: required and unset/);
    expect(() => loadWorkerConfig({})).toThrow(/TEMPORAL_PAYLOAD_KEYS: required and unset/);
  });

  test.each([
    ['a key of 16 bytes', `k1:${Buffer.alloc(16).toString('base64')}`, /TEMPORAL_PAYLOAD_KEYS: key k1: must be 32 bytes/],
    ['a key that is not base64', 'k1:not base64!', /TEMPORAL_PAYLOAD_KEYS: key k1: must be 32 bytes/],
    ['no id', key('x'), /TEMPORAL_PAYLOAD_KEYS: entry 1: expected id:base64key/],
    ['an id twice', `${OLD},${OLD}`, /TEMPORAL_PAYLOAD_KEYS: key old: listed twice/],
    ['an empty list', ' , ', /TEMPORAL_PAYLOAD_KEYS: no key/],
  ])('%s is refused naming the variable, never printing a key', (_, value, message) => {
    let error: Error | undefined;
    try {
      loadWorkerConfig({ TEMPORAL_PAYLOAD_KEYS: value });
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).toMatch(message);
    expect(error?.message).not.toContain(key('x'));
  });

  test('the first key encrypts, every key decrypts', () => {
    const keyring = parsePayloadKeys(` ${NEW} , ${OLD} `);
    expect(keyring.encryptWith.id).toBe('new');
    expect([...keyring.byId.keys()]).toEqual(['new', 'old']);
  });
});
