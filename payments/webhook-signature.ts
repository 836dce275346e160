/**
 * Webhook signatures: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`.
 * Pure (no Express, no provider state): the API imports `verifyWebhookSignature` from here.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

function hmacHex(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The `X-Signature` header value for `body` signed at `nowSeconds`. */
export function signWebhook(secret: string, body: string | Buffer, nowSeconds: number): string {
  const t = Math.floor(nowSeconds);
  return `t=${t},v1=${hmacHex(secret, t, body)}`;
}

function parseHeader(header: string): { t: number; signatures: string[] } | undefined {
  let t: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value)) return undefined;
      t = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      signatures.push(value.toLowerCase());
    }
  }
  if (t === undefined || signatures.length === 0) return undefined;
  return { t, signatures };
}

/**
 * Checks `header` against `rawBody` (the exact bytes received, not re-serialised JSON).
 * Rejects timestamps more than `toleranceSeconds` away from `nowSeconds`, in either direction,
 * so a captured delivery cannot be replayed later.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined,
  rawBody: string | Buffer,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing signature header' };
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed signature header' };
  if (Math.abs(Math.floor(nowSeconds) - parsed.t) > toleranceSeconds) {
    return { ok: false, reason: 'timestamp outside the tolerance' };
  }
  const expected = Buffer.from(hmacHex(secret, parsed.t, rawBody), 'hex');
  const matches = parsed.signatures.some((candidate) => timingSafeEqual(Buffer.from(candidate, 'hex'), expected));
  return matches ? { ok: true } : { ok: false, reason: 'signature mismatch' };
}
