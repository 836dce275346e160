import { defaultPayloadConverter } from '@temporalio/common';
import { encryptedPayloadBytes } from '../payload-codec/encryption-codec';
import { MAX_KEY_ID_LENGTH } from '../payload-codec/payload-keys';

/*
 * What the client sends Temporal beside a workflow's input is user text (a sale's name, a
 * shopper's id), and Temporal refuses a start whose metadata is over its limits with
 * INVALID_ARGUMENT, on every retry. Its defaults, per namespace:
 * - `limit.userMetadataSummarySize` 400 bytes and `limit.userMetadataDetailsSize` 20,000 bytes,
 *   each counted over the serialized Payload as the client sends it, i.e. encrypted by the
 *   payload codec (payload-codec/encryption-codec.ts: about 80 bytes more than the plain JSON);
 * - `frontend.searchAttributesSizeOfValueLimit` 2 KB per search attribute value.
 * These bounds keep every start inside them, cutting text on a character boundary.
 */
export const SUMMARY_MAX_BYTES = 400;
export const DETAILS_MAX_BYTES = 20_000;
export const SEARCH_ATTRIBUTE_VALUE_MAX_BYTES = 2_048;

const ELLIPSIS = '…';

/** `text` cut to at most `maxBytes` of UTF-8, whole code points only, with "…" when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text) <= maxBytes) return text;
  const budget = maxBytes - utf8Bytes(ELLIPSIS);
  let kept = '';
  let used = 0;
  for (const codePoint of text) {
    const bytes = utf8Bytes(codePoint);
    if (used + bytes > budget) break;
    kept += codePoint;
    used += bytes;
  }
  return kept + ELLIPSIS;
}

/**
 * The size Temporal compares with its metadata limits: `text` as a serialized Payload of the
 * default converter, encrypted under a key id of the longest length allowed.
 */
export function payloadBytes(text: string): number {
  const payload = defaultPayloadConverter.toPayload(text);
  if (!payload?.data) throw new Error('the default payload converter did not encode a string');
  let size = field(payload.data.length);
  for (const [key, value] of Object.entries(payload.metadata ?? {})) size += field(field(utf8Bytes(key)) + field(value.length));
  return encryptedPayloadBytes(size, MAX_KEY_ID_LENGTH);
}

/**
 * `text` as it is if its Payload fits in `maxBytes`, otherwise its longest prefix of whole code
 * points that fits with a trailing "…" (JSON escapes, such as a quote's backslash, count).
 */
export function fitPayload(text: string, maxBytes: number): string {
  return fitPayloadKeepingTail(text, '', maxBytes);
}

/**
 * `head + tail` as it is if its Payload fits in `maxBytes`, otherwise the longest prefix of `head`
 * (whole code points, with "…") that fits in front of the whole `tail`; `tail` alone must fit.
 */
export function fitPayloadKeepingTail(head: string, tail: string, maxBytes: number): string {
  if (payloadBytes(head + tail) <= maxBytes) return head + tail;
  const codePoints = Array.from(head);
  let low = 0;
  let high = codePoints.length - 1;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (payloadBytes(codePoints.slice(0, middle).join('') + ELLIPSIS + tail) <= maxBytes) low = middle;
    else high = middle - 1;
  }
  return codePoints.slice(0, low).join('') + ELLIPSIS + tail;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A length-delimited protobuf field: tag, varint length, bytes. */
function field(length: number): number {
  let varint = 1;
  for (let n = length; n >= 128; n = Math.floor(n / 128)) varint++;
  return 1 + varint + length;
}
