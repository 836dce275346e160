import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/stack/free-port';
import { GatewayUnavailableError, type ChargeRequest, type PaymentGateway } from '../../payments/gateway';
import { createHttpGateway } from '../../payments/http-gateway';
import { simulatorLedger, startPsp, type RunningPsp } from './psp-process';

let psp: RunningPsp;
let client: PaymentGateway;

beforeAll(async () => {
  psp = await startPsp({ PSP_FAULT_RESET_RATE: '1' });
  client = createHttpGateway({ baseUrl: psp.url, timeoutMs: 5_000 });
});

afterAll(async () => {
  await psp?.stop();
});

const visa = (): ChargeRequest => ({
  idempotencyKey: `key-${randomUUID()}`,
  amountCents: 4_200,
  currency: 'EUR',
  paymentMethod: 'tok_visa',
  reference: `res-${randomUUID()}`,
});

async function unavailable(call: Promise<unknown>): Promise<GatewayUnavailableError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GatewayUnavailableError);
  return error as GatewayUnavailableError;
}

test('resets before and after processing; a retry with the same key returns the recorded charge', async () => {
  const attempts: ChargeRequest[] = [];
  // Half the resets come after the charge was recorded; the seed makes the sequence repeatable.
  for (let i = 0; i < 12; i += 1) {
    const params = visa();
    attempts.push(params);
    expect((await unavailable(client.charge(params))).reachedServer).toBe(true);
  }
  const ledger = await simulatorLedger(client);
  expect(ledger.faults.resetsBefore + ledger.faults.resetsAfter).toBe(12);
  expect(ledger.faults.resetsAfter).toBeGreaterThan(0);
  expect(ledger.faults.resetsBefore).toBeGreaterThan(0);
  const recorded = new Map(ledger.charges.map((c) => [c.reference, c]));
  expect(recorded.size).toBe(ledger.faults.resetsAfter);

  await psp.configure({ faultResetRate: 0 });
  for (const params of attempts) {
    const retry = await client.charge(params);
    if (retry.kind !== 'succeeded') throw new Error(`retry ${retry.kind}`);
    const before = recorded.get(params.reference);
    if (before) {
      // The client never heard of it, but the PSP had charged: the same charge, not a second one.
      expect(retry).toEqual({ kind: 'succeeded', charge: before, replayed: true });
    } else {
      expect(retry.replayed).toBe(false);
    }
    expect(await client.chargesByReference(params.reference)).toHaveLength(1);
  }
});

test('a 503 fault throws GatewayUnavailableError with the status; a slow fault answers late', async () => {
  await psp.configure({ faultResetRate: 0, fault5xxRate: 1 });
  const error = await unavailable(client.charge(visa()));
  expect(error).toMatchObject({ reachedServer: true, status: 503 });

  await psp.configure({ fault5xxRate: 0, faultSlowRate: 1, faultSlowMs: 600 });
  const started = Date.now();
  expect(await client.charge(visa())).toMatchObject({ kind: 'succeeded' });
  expect(Date.now() - started).toBeGreaterThanOrEqual(550);

  const impatient = createHttpGateway({ baseUrl: psp.url, timeoutMs: 200 });
  expect(await unavailable(impatient.charge(visa()))).toMatchObject({ reachedServer: true });
  await psp.configure({ faultSlowRate: 0 });
});

test('nothing listening: reachedServer is false, so another gateway may be tried', async () => {
  const port = await freePort();
  const nowhere = createHttpGateway({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2_000 });
  expect(await unavailable(nowhere.charge(visa()))).toMatchObject({ reachedServer: false });
  const noHost = createHttpGateway({ baseUrl: 'http://psp.invalid', timeoutMs: 5_000 });
  expect(await unavailable(noHost.ledger())).toMatchObject({ reachedServer: false });
});

test('with PSP_DATA_FILE a restarted PSP keeps its ledger and honours its keys', async () => {
  const dataFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'psp-journal-')), 'psp.jsonl');
  const first = await startPsp({ PSP_DATA_FILE: dataFile, PSP_SLOW_MS: '1500' });
  const params = visa();
  const slow = { ...visa(), paymentMethod: 'tok_slow' };
  let restarted: RunningPsp | undefined;
  try {
    const firstClient = createHttpGateway({ baseUrl: first.url, timeoutMs: 5_000 });
    const charged = await firstClient.charge(params);
    expect(charged.kind).toBe('succeeded');
    // Stopped while the slow charge is still processing: the restarted PSP finishes it.
    await unavailable(createHttpGateway({ baseUrl: first.url, timeoutMs: 300 }).charge(slow));
    await first.process.kill9();

    restarted = await startPsp({ PSP_DATA_FILE: dataFile, PSP_SLOW_MS: '1500' });
    const again = createHttpGateway({ baseUrl: restarted.url, timeoutMs: 5_000 });
    expect(await again.charge(params)).toEqual({ ...charged, replayed: true });
    const slowOutcome = await again.charge(slow);
    expect(slowOutcome).toMatchObject({ kind: 'succeeded', replayed: true, charge: { status: 'succeeded' } });
    const ledger = await again.ledger();
    expect(ledger.charges).toHaveLength(2);
  } finally {
    await first.stop();
    await restarted?.stop();
  }
});
