import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { PayloadKeyring } from './payload-keys';

/** The metadata of Temporal's encryption samples, so their tools and ours read each other's payloads. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const METADATA_ENCRYPTION_KEY_ID = 'encryption-key-id';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string) => Buffer.from(text, 'utf8');

/**
 * AES-256-GCM over the whole serialized payload (its metadata too, so even the encoding is
 * hidden): data = IV (12 random bytes) ‖ ciphertext ‖ tag (16). Runs in the client and the
 * worker, outside the workflow sandbox. A payload without the encrypted encoding passes through
 * on decode: histories written before encryption still read and replay.
 */
export function createEncryptionCodec(keyring: PayloadKeyring): PayloadCodec {
  return {
    async encode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => encrypt(payload, keyring));
    },
    async decode(payloads: Payload[]): Promise<Payload[]> {
      return payloads.map((payload) => decrypt(payload, keyring));
    },
  };
}

function encrypt(payload: Payload, keyring: PayloadKeyring): Payload {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyring.encryptWith.key, iv);
  const plain = temporal.api.common.v1.Payload.encodeDelimited(payload).finish();
  const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return {
    metadata: {
      [METADATA_ENCODING_KEY]: utf8(ENCRYPTED_ENCODING),
      [METADATA_ENCRYPTION_KEY_ID]: utf8(keyring.encryptWith.id),
    },
    data: sealed,
  };
}

function decrypt(payload: Payload, keyring: PayloadKeyring): Payload {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  if (!encoding || Buffer.from(encoding).toString('utf8') !== ENCRYPTED_ENCODING) return payload;
  const keyIdBytes = payload.metadata?.[METADATA_ENCRYPTION_KEY_ID];
  if (!keyIdBytes) throw new ValueError(`an encrypted payload without ${METADATA_ENCRYPTION_KEY_ID}`);
  const keyId = Buffer.from(keyIdBytes).toString('utf8');
  const key = keyring.byId.get(keyId);
  if (!key)
    throw new ValueError(
      `payload encrypted with key ${keyId}, which TEMPORAL_PAYLOAD_KEYS does not hold (was it removed too early?)`,
    );
  const data = Buffer.from(payload.data ?? []);
  if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('an encrypted payload too short to hold its IV and tag');
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
  decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new ValueError(`payload encrypted with key ${keyId} failed authentication (altered, or another key of that id)`);
  }
  return temporal.api.common.v1.Payload.decodeDelimited(plain);
}

/** The serialized size of a payload of `plainBytes` once encrypted under a key id of `keyIdLength` characters. */
export function encryptedPayloadBytes(plainBytes: number, keyIdLength: number): number {
  const delimited = field(plainBytes) - 1; // encodeDelimited: varint length + bytes, no tag
  const entry = (key: string, valueLength: number) => field(field(Buffer.byteLength(key)) + field(valueLength));
  return (
    entry(METADATA_ENCODING_KEY, ENCRYPTED_ENCODING.length) +
    entry(METADATA_ENCRYPTION_KEY_ID, keyIdLength) +
    field(IV_BYTES + delimited + TAG_BYTES)
  );
}

/** A length-delimited protobuf field: tag, varint length, bytes. */
function field(length: number): number {
  let varint = 1;
  for (let n = length; n >= 128; n = Math.floor(n / 128)) varint++;
  return 1 + varint + length;
}
