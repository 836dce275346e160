import { signWebhook, verifyWebhookSignature } from '../../payments/webhook-signature';

const secret = 'whsec-test';
const body = JSON.stringify({ id: 'evt_1', type: 'charge.succeeded', data: { chargeId: 'ch_1' } });
const now = 1_800_000_000;

test('a signature made with the secret verifies', () => {
  const header = signWebhook(secret, body, now);
  expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
  expect(verifyWebhookSignature(secret, header, body, now)).toEqual({ ok: true });
  expect(verifyWebhookSignature(secret, header, Buffer.from(body), now + 299)).toEqual({ ok: true });
});

test('a signature made with another secret is rejected', () => {
  const forged = signWebhook('not-the-secret', body, now);
  expect(verifyWebhookSignature(secret, forged, body, now)).toEqual({ ok: false, reason: 'signature mismatch' });
});

test('a tampered body is rejected', () => {
  const header = signWebhook(secret, body, now);
  const tampered = body.replace('ch_1', 'ch_2');
  expect(verifyWebhookSignature(secret, header, tampered, now)).toEqual({ ok: false, reason: 'signature mismatch' });
});

test('a timestamp moved to pass the tolerance no longer matches the signature', () => {
  const [, v1] = signWebhook(secret, body, now - 1_000).split(',');
  const replayed = `t=${now},${v1}`;
  expect(verifyWebhookSignature(secret, replayed, body, now).ok).toBe(false);
});

test('a signature older than 300 s is rejected, as is one from the future', () => {
  const old = signWebhook(secret, body, now - 301);
  expect(verifyWebhookSignature(secret, old, body, now)).toEqual({ ok: false, reason: 'timestamp outside the tolerance' });
  const future = signWebhook(secret, body, now + 301);
  expect(verifyWebhookSignature(secret, future, body, now).ok).toBe(false);
  expect(verifyWebhookSignature(secret, old, body, now, 600)).toEqual({ ok: true });
});

test.each([
  ['missing', undefined],
  ['empty', ''],
  ['no timestamp', `v1=${'a'.repeat(64)}`],
  ['no v1', `t=${now}`],
  ['not hex', `t=${now},v1=${'z'.repeat(64)}`],
  ['short digest', `t=${now},v1=abcd`],
  ['garbage', 'hello world'],
  ['non-numeric timestamp', `t=soon,v1=${'a'.repeat(64)}`],
])('a malformed header (%s) is rejected without throwing', (_name, header) => {
  const result = verifyWebhookSignature(secret, header, body, now);
  expect(result.ok).toBe(false);
});

test('any one of several v1 signatures may match (secret rotation)', () => {
  const good = signWebhook(secret, body, now);
  const other = signWebhook('old-secret', body, now).split(',')[1];
  expect(verifyWebhookSignature(secret, `${good},${other}`, body, now)).toEqual({ ok: true });
});
