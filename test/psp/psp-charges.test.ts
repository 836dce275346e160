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

const key = () => `key-${randomUUID()}`;
const reference = () => `res-${randomUUID()}`;

async function post(path: string, body: unknown, idempotencyKey?: string) {
  const response = await fetch(psp.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}) },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    replayed: response.headers.get('idempotent-replayed'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

test('tok_visa succeeds, and a repeat with the same key replays the same charge', async () => {
  const params = {
    idempotencyKey: key(),
    amountCents: 99_900,
    currency: 'EUR',
    paymentMethod: 'tok_visa',
    reference: reference(),
  };
  const first = await client.charge(params);
  expect(first).toMatchObject({ kind: 'succeeded', replayed: false });
  if (first.kind !== 'succeeded') throw new Error('unreachable');
  expect(first.charge).toMatchObject({
    object: 'charge',
    status: 'succeeded',
    amountCents: 99_900,
    currency: 'EUR',
    reference: params.reference,
    gateway: 'test',
  });
  expect(first.charge.id).toMatch(/^ch_test_/);

  const again = await client.charge(params);
  expect(again).toEqual({ ...first, replayed: true });
  expect(await client.chargesByReference(params.reference)).toHaveLength(1);
  expect(await client.getCharge(first.charge.id)).toEqual(first.charge);
  expect(await client.getCharge('ch_test_nope')).toBeUndefined();
});

test('tok_chargeDeclined is a 402 card-declined carrying the failed charge; the replay is identical', async () => {
  const k = key();
  const body = { amountCents: 500, currency: 'EUR', paymentMethod: 'tok_chargeDeclined', reference: reference() };
  const first = await post('/v1/charges', body, k);
  expect(first.status).toBe(402);
  expect(first.contentType).toContain('application/problem+json');
  expect(String(first.body.type)).toMatch(/card-declined$/);
  expect(first.body.charge).toMatchObject({ status: 'failed', failureReason: 'card_declined' });

  const again = await post('/v1/charges', body, k);
  expect(again.status).toBe(402);
  expect(again.replayed).toBe('true');
  expect(again.body).toEqual(first.body);

  const outcome = await client.charge({ idempotencyKey: k, ...body });
  expect(outcome).toMatchObject({ kind: 'declined', reason: 'card_declined', replayed: true });
});

test('an unknown payment method is declined as invalid_payment_method', async () => {
  const outcome = await client.charge({
    idempotencyKey: key(),
    amountCents: 100,
    currency: 'EUR',
    paymentMethod: 'tok_unknown',
    reference: reference(),
  });
  expect(outcome).toMatchObject({ kind: 'declined', reason: 'invalid_payment_method' });
});

test('tok_slow: processing while it runs, and concurrent requests with one key charge once', async () => {
  const params = { idempotencyKey: key(), amountCents: 700, currency: 'EUR', paymentMethod: 'tok_slow', reference: reference() };
  const started = Date.now();
  const pending = [client.charge(params), client.charge(params), client.charge(params)];
  const [processing] = await waitFor(
    () => client.chargesByReference(params.reference),
    (charges) => charges.length > 0,
    10_000,
    'the slow charge recorded',
  );
  expect(processing?.status).toBe('processing');

  const outcomes = await Promise.all(pending);
  expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
  const ids = outcomes.map((o) => (o.kind === 'succeeded' ? o.charge.id : o.kind));
  expect(new Set(ids)).toEqual(new Set([processing?.id]));
  expect(outcomes.filter((o) => o.kind === 'succeeded' && !o.replayed)).toHaveLength(1);

  const ledger = await client.ledger();
  expect(ledger.charges.filter((c) => c.reference === params.reference)).toEqual([
    expect.objectContaining({ status: 'succeeded' }),
  ]);
});

test('the same key with other parameters is 422 idempotency-key-reuse', async () => {
  const k = key();
  const body = { amountCents: 100, currency: 'EUR', paymentMethod: 'tok_visa', reference: reference() };
  expect((await post('/v1/charges', body, k)).status).toBe(201);
  const reuse = await post('/v1/charges', { ...body, amountCents: 101 }, k);
  expect(reuse.status).toBe(422);
  expect(String(reuse.body.type)).toMatch(/idempotency-key-reuse$/);
  // Keys are scoped per endpoint: the same key may name a refund.
  const charge = (await post('/v1/charges', body, k)).body;
  expect((await post('/v1/refunds', { chargeId: charge.id }, k)).status).toBe(201);
});

test('requests without a key or with a bad body are 400', async () => {
  const body = { amountCents: 100, currency: 'EUR', paymentMethod: 'tok_visa', reference: reference() };
  const noKey = await post('/v1/charges', body);
  expect(noKey.status).toBe(400);
  expect(String(noKey.body.type)).toMatch(/missing-idempotency-key$/);
  for (const bad of [
    { ...body, amountCents: 0 },
    { ...body, currency: 'eur' },
    { ...body, reference: undefined },
  ]) {
    const answer = await post('/v1/charges', bad, key());
    expect(answer.status).toBe(400);
    expect(String(answer.body.type)).toMatch(/invalid-request$/);
  }
  const outcome = await client.charge({ idempotencyKey: key(), ...body, amountCents: -5 });
  expect(outcome).toMatchObject({ kind: 'rejected', status: 400 });
});

test('a refund works once: replayed under its key, 409 already-refunded under another', async () => {
  const charged = await client.charge({
    idempotencyKey: key(),
    amountCents: 1_234,
    currency: 'EUR',
    paymentMethod: 'tok_visa',
    reference: reference(),
  });
  if (charged.kind !== 'succeeded') throw new Error(`charge ${charged.kind}`);
  const refundKey = key();
  const refund = await client.refund({ idempotencyKey: refundKey, chargeId: charged.charge.id, reason: 'hold expired' });
  expect(refund).toMatchObject({
    kind: 'succeeded',
    replayed: false,
    refund: { object: 'refund', chargeId: charged.charge.id, amountCents: 1_234, currency: 'EUR', status: 'succeeded' },
  });
  if (refund.kind !== 'succeeded') throw new Error('unreachable');
  expect(refund.refund.id).toMatch(/^re_test_/);
  expect(await client.getCharge(charged.charge.id)).toMatchObject({ status: 'refunded', refundId: refund.refund.id });

  expect(await client.refund({ idempotencyKey: refundKey, chargeId: charged.charge.id, reason: 'hold expired' })).toEqual({
    ...refund,
    replayed: true,
  });

  const double = await client.refund({ idempotencyKey: key(), chargeId: charged.charge.id });
  expect(double).toMatchObject({ kind: 'rejected', status: 409, problem: { refund: refund.refund } });
  if (double.kind !== 'rejected') throw new Error('unreachable');
  expect(double.problem.type).toMatch(/already-refunded$/);

  const ledger = await client.ledger();
  expect(ledger.refunds.filter((r) => r.chargeId === charged.charge.id)).toHaveLength(1);
});

test('refunds of unknown or failed charges are refused', async () => {
  const unknown = await client.refund({ idempotencyKey: key(), chargeId: 'ch_test_unknown' });
  expect(unknown).toMatchObject({ kind: 'rejected', status: 404 });
  const declined = await client.charge({
    idempotencyKey: key(),
    amountCents: 100,
    currency: 'EUR',
    paymentMethod: 'tok_chargeDeclined',
    reference: reference(),
  });
  if (declined.kind !== 'declined') throw new Error(`charge ${declined.kind}`);
  const refused = await client.refund({ idempotencyKey: key(), chargeId: declined.charge.id });
  expect(refused).toMatchObject({ kind: 'rejected', status: 409 });
  if (refused.kind === 'rejected') expect(refused.problem.type).toMatch(/charge-not-captured$/);
});
