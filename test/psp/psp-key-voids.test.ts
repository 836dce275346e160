import { waitFor } from '../helpers/sales';
import { randomUUID } from 'node:crypto';
import type { PaymentGateway } from '../../payments/gateway';
import { createHttpGateway } from '../../payments/http-gateway';
import { startPsp, type RunningPsp } from './psp-process';

let psp: RunningPsp;
let client: PaymentGateway;

beforeAll(async () => {
  psp = await startPsp({ PSP_SLOW_MS: '1500' });
  client = createHttpGateway({ baseUrl: psp.url, timeoutMs: 10_000 });
});

afterAll(async () => {
  await psp?.stop();
});

const charge = (idempotencyKey: string, paymentMethod = 'tok_visa') => ({
  idempotencyKey,
  amountCents: 1_000,
  currency: 'EUR',
  paymentMethod,
  reference: `res-${randomUUID()}`,
});

test('a voided key can never charge, and voiding it again says so again', async () => {
  const key = `key-${randomUUID()}`;
  expect(await client.voidChargeKey(key)).toEqual({ kind: 'voided' });
  const params = charge(key);
  expect(await client.charge(params)).toEqual({ kind: 'voided' });
  expect(await client.charge({ ...params, paymentMethod: 'tok_chargeDeclined' })).toEqual({ kind: 'voided' });
  expect(await client.voidChargeKey(key)).toEqual({ kind: 'voided' });
  expect(await client.chargesByReference(params.reference)).toEqual([]);
});

test('a key that already charged cannot be voided: the answer is its charge', async () => {
  const captured = charge(`key-${randomUUID()}`);
  const made = await client.charge(captured);
  if (made.kind !== 'succeeded') throw new Error(`expected a capture, got ${made.kind}`);
  expect(await client.voidChargeKey(captured.idempotencyKey)).toEqual({ kind: 'charged', charge: made.charge });
  expect(await client.charge(captured)).toMatchObject({ kind: 'succeeded', replayed: true });

  const declined = charge(`key-${randomUUID()}`, 'tok_chargeDeclined');
  await client.charge(declined);
  expect(await client.voidChargeKey(declined.idempotencyKey)).toMatchObject({
    kind: 'charged',
    charge: { status: 'failed', failureReason: 'card_declined' },
  });
});

test('a charge still processing (tok_slow) is reported as processing and then completes', async () => {
  const slow = charge(`key-${randomUUID()}`, 'tok_slow');
  const pending = client.charge(slow);
  await waitFor(
    () => client.chargesByReference(slow.reference),
    (charges) => charges.length > 0,
    10_000,
    'the slow charge recorded',
  );
  expect(await client.voidChargeKey(slow.idempotencyKey)).toMatchObject({ kind: 'charged', charge: { status: 'processing' } });
  expect(await pending).toMatchObject({ kind: 'succeeded' });
  expect(await client.voidChargeKey(slow.idempotencyKey)).toMatchObject({ kind: 'charged', charge: { status: 'succeeded' } });
});
