import { randomUUID } from 'node:crypto';
import type { ChargeRequest, PaymentGateway } from '../../payments/gateway';
import { createHttpGateway } from '../../payments/http-gateway';
import type { WebhookEvent } from '../../payments/gateway';
import { verifyWebhookSignature } from '../../payments/webhook-signature';
import { waitFor } from '../helpers/sales';
import {
  PSP_TEST_SECRET,
  simulatorLedger,
  startPsp,
  startWebhookReceiver,
  type RunningPsp,
  type WebhookReceiver,
} from './psp-process';

let receiver: WebhookReceiver;
let psp: RunningPsp;
let client: PaymentGateway;

beforeAll(async () => {
  receiver = await startWebhookReceiver();
  psp = await startPsp({ PSP_WEBHOOK_URL: receiver.url, PSP_WEBHOOK_DELAY_MS: '10' });
  client = createHttpGateway({ baseUrl: psp.url, timeoutMs: 5_000 });
});

afterAll(async () => {
  await psp?.stop();
  await receiver?.close();
});

const charge = (paymentMethod = 'tok_visa'): ChargeRequest => ({
  idempotencyKey: `key-${randomUUID()}`,
  amountCents: 2_500,
  currency: 'EUR',
  paymentMethod,
  reference: `res-${randomUUID()}`,
});

const eventsFor = (reference: string) =>
  receiver.received.filter((w) => (JSON.parse(w.rawBody) as WebhookEvent).data.reference === reference);

const waitForEvents = (reference: string, count: number, timeoutMs = 10_000) =>
  waitFor(
    async () => eventsFor(reference),
    (events) => events.length >= count,
    timeoutMs,
    `${count} webhooks for ${reference}`,
  );

test('every outcome is reported by a signed webhook that verifies', async () => {
  const paid = charge();
  const declined = charge('tok_chargeDeclined');
  const succeeded = await client.charge(paid);
  await client.charge(declined);
  if (succeeded.kind !== 'succeeded') throw new Error(succeeded.kind);
  await client.refund({ idempotencyKey: `refund-${randomUUID()}`, chargeId: succeeded.charge.id });

  const [charged, refunded] = await waitForEvents(paid.reference, 2);
  const [failed] = await waitForEvents(declined.reference, 1);
  for (const delivery of [charged!, refunded!, failed!]) {
    expect(verifyWebhookSignature(PSP_TEST_SECRET, delivery.signature, delivery.rawBody, Date.now() / 1000)).toEqual({
      ok: true,
    });
    expect(verifyWebhookSignature('wrong-secret', delivery.signature, delivery.rawBody, Date.now() / 1000).ok).toBe(false);
  }
  const parse = (w: typeof charged) => JSON.parse(w!.rawBody) as WebhookEvent;
  expect(parse(charged)).toMatchObject({
    id: expect.stringMatching(/^evt_/),
    type: 'charge.succeeded',
    data: { chargeId: succeeded.charge.id, reference: paid.reference, amountCents: 2_500, currency: 'EUR', gateway: 'test' },
  });
  expect(parse(refunded)).toMatchObject({ type: 'charge.refunded', data: { status: 'refunded', refundId: expect.any(String) } });
  expect(parse(failed)).toMatchObject({ type: 'charge.failed', data: { status: 'failed', failureReason: 'card_declined' } });
});

test('with the duplicate rate at 1 each event arrives twice, with the same id', async () => {
  await psp.configure({ webhookDuplicateRate: 1 });
  const params = charge();
  await client.charge(params);
  const [first, second] = await waitForEvents(params.reference, 2);
  expect(JSON.parse(second!.rawBody)).toEqual(JSON.parse(first!.rawBody));
  for (const delivery of [first!, second!]) {
    expect(verifyWebhookSignature(PSP_TEST_SECRET, delivery.signature, delivery.rawBody, Date.now() / 1000).ok).toBe(true);
  }
  await psp.configure({ webhookDuplicateRate: 0 });
  expect((await simulatorLedger(client)).webhooks.duplicatesSent).toBeGreaterThanOrEqual(1);
});

test('a held-back event arrives after the next one; a late one after its delay', async () => {
  await psp.configure({ webhookReorderRate: 1 });
  const held = charge();
  await client.charge(held);
  await psp.configure({ webhookReorderRate: 0 });
  const next = charge();
  await client.charge(next);
  const [heldEvent] = await waitForEvents(held.reference, 1);
  const [nextEvent] = await waitForEvents(next.reference, 1);
  expect(heldEvent!.receivedAtMs).toBeGreaterThanOrEqual(nextEvent!.receivedAtMs);

  await psp.configure({ webhookLateRate: 1, webhookLateMs: 800 });
  const late = charge();
  const started = Date.now();
  await client.charge(late);
  await psp.configure({ webhookLateRate: 0 });
  const [lateEvent] = await waitForEvents(late.reference, 1);
  expect(lateEvent!.receivedAtMs - started).toBeGreaterThanOrEqual(750);

  const { webhooks } = await simulatorLedger(client);
  expect(webhooks.reorderedSent).toBeGreaterThanOrEqual(1);
  expect(webhooks.lateSent).toBeGreaterThanOrEqual(1);
});

test('a failed delivery is retried until the receiver accepts it', async () => {
  const before = await simulatorLedger(client);
  receiver.failNext(2);
  const params = charge();
  await client.charge(params);
  const [delivery] = await waitForEvents(params.reference, 1);
  expect(verifyWebhookSignature(PSP_TEST_SECRET, delivery!.signature, delivery!.rawBody, Date.now() / 1000).ok).toBe(true);
  const after = await simulatorLedger(client);
  expect(after.webhooks.failedAttempts - before.webhooks.failedAttempts).toBe(2);
});
