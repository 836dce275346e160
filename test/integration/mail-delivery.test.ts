import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { Pool } from 'pg';
import { joinQueue, pollPosition, queueTicketHeader } from '../../clients/waiting-room-client';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import type { AppUnderTest } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { testTemporalClient } from '../helpers/temporal-client';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale, waitFor } from '../helpers/sales';
import { startSlowSmtp, type SlowSmtp } from '../helpers/slow-smtp';

/*
 * The workers' mail against a real SMTP server that is slow (2 s per message) and refuses some
 * recipients: `rejected-…` for good (550), `transient-…` twice for now (451), then accepts.
 */
let app: AppUnderTest;
let api: ApiClient;
let db: Pool;
let sink: SlowSmtp;
let connection: Connection;
let temporal: Client;
const transientRefusals = new Map<string, number>();

beforeAll(async () => {
  sink = await startSlowSmtp({
    delayMs: 2_000,
    refuseRecipient: (address) => {
      if (address.startsWith('rejected-')) return { code: 550, message: 'no such mailbox' };
      if (!address.startsWith('transient-')) return undefined;
      const seen = transientRefusals.get(address) ?? 0;
      transientRefusals.set(address, seen + 1);
      return seen < 2 ? { code: 451, message: 'try again later' } : undefined;
    },
  });
  ({ app, api, db } = await startIntegrationApp({
    workers: 2,
    // The shortest lease the configuration allows, so a 50-notice batch outlasts it.
    env: { SMTP_URL: sink.smtpUrl, NOTIFY_LEASE_SECONDS: '11' },
  }));
  connection = await Connection.connect({ address: testInfra().temporalAddress });
  temporal = testTemporalClient(connection);
});

afterAll(async () => {
  await connection?.close();
  await stopIntegrationApp({ app, api, db });
  await sink?.stop();
});

async function cancelledReservation(shopper: string, suffix?: string): Promise<string> {
  const sale = await createTestSale(api, { units: 1, priceCents: 12_345 });
  const token = await shopperToken(`${shopper}-${suffix ?? sale.id}`);
  const claim = await api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token });
  expect(claim.status).toBe(201);
  expect((await api.post(`/v1/reservations/${claim.body.id}/cancel`, { token })).status).toBe(200);
  return claim.body.id;
}

async function workflowProgress(reservationId: string) {
  const described = await temporal.workflow.getHandle(reservationWorkflowId(reservationId)).describe();
  return { status: described.status.name, historyLength: described.historyLength };
}

async function noticeRow(reservationId: string) {
  const { rows } = await db.query<{ state: string; last_error: string | null }>(
    `select state, last_error from notifications where reservation_id = $1 and kind = 'cancelled'`,
    [reservationId],
  );
  return rows[0];
}

test('an outcome e-mail the SMTP server refuses for good (550) is recorded as failed and the workflow ends', async () => {
  const reservationId = await cancelledReservation('rejected');
  const ended = await waitFor(
    () => workflowProgress(reservationId),
    (p) => p.status === 'COMPLETED',
    30_000,
    'workflow of a refused notice ended',
  );
  expect(ended.historyLength).toBeLessThan(30);
  const row = await noticeRow(reservationId);
  expect(row?.state).toBe('failed');
  expect(row?.last_error).toMatch(/550/);
  expect(sink.accepted.filter((m) => m.key.startsWith(`${reservationId}:`))).toEqual([]);
  // The worker's log reaches this process on its own pipe, in no order with the workflow's end.
  await waitFor(
    async () => app.logs.some((line) => line.includes(reservationId) && line.includes('refused for good')),
    (logged) => logged,
    30_000,
    'refused notice logged',
  );
});

test('an outcome e-mail refused for now (451) is retried and delivered once', async () => {
  const reservationId = await cancelledReservation('transient');
  await waitFor(
    () => workflowProgress(reservationId),
    (p) => p.status === 'COMPLETED',
    30_000,
    'workflow of a deferred notice ended',
  );
  expect((await noticeRow(reservationId))?.state).toBe('sent');
  expect(sink.countByKey().get(`${reservationId}:cancelled`)).toBe(1);
});

test('shoppers `a/b` and `a_b` are mailed at two different addresses', async () => {
  const suffix = randomUUID();
  const [slash, underscore] = await Promise.all([cancelledReservation('a/b', suffix), cancelledReservation('a_b', suffix)]);
  const mails = await waitFor(
    async () => sink.accepted.filter((m) => m.key === `${slash}:cancelled` || m.key === `${underscore}:cancelled`),
    (m) => m.length === 2,
    30_000,
    'both cancellation e-mails',
  );
  const [to1, to2] = mails.map((m) => m.to.join(','));
  expect(to1).not.toBe(to2);
});

// Last: it stops both workers to let their passes in flight finish before counting.
test('two dispatchers and a slow SMTP server: every sold-out notice reaches the server once', async () => {
  const { id: saleId } = await createTestSale(api, {
    units: 1,
    priceCents: 12_345,
    waitingRoom: { admitPerSecond: 1, powDifficulty: 4 },
  });
  const buyer = `buyer-${saleId}`;
  const queued = Array.from({ length: 59 }, (_, i) => `queued-${i}-${saleId}`);
  const buyerToken = await shopperToken(buyer);
  const buyerTicket = await joinQueue(app.apiUrl, saleId, buyerToken);
  await Promise.all(queued.map(async (shopper) => joinQueue(app.apiUrl, saleId, await shopperToken(shopper))));
  expect((await pollPosition(app.apiUrl, saleId, buyerToken, { intervalMs: 250 })).status).toBe('admitted');
  const claim = await api.post<ReservationAnswer>(`/v1/sales/${saleId}/reservations`, {
    token: buyerToken,
    headers: queueTicketHeader(buyerTicket),
  });
  expect(claim.status).toBe(201);
  expect(
    (await api.post(`/v1/reservations/${claim.body.id}/payment`, { token: buyerToken, body: { paymentMethod: 'tok_visa' } }))
      .status,
  ).toBe(202);
  expect((await waitUntilSettled(api, claim.body.id, buyerToken)).status).toBe('paid');

  // 59 notices, 4 lanes per dispatcher, 2 s per message: a 50-notice batch takes 26 s, past the 11 s lease.
  await waitFor(
    async () =>
      (
        await db.query<{ sent: number }>(
          `select count(*)::int as sent from notifications where sale_id = $1 and kind = 'sold-out' and state = 'sent'`,
          [saleId],
        )
      ).rows[0]!.sent,
    (sent) => sent === queued.length,
    120_000,
    'every sold-out notice marked sent',
  );
  // A stopping worker finishes the pass in flight first (worker/run-worker.ts): afterwards nothing more is sent.
  await Promise.all(app.workers.map((worker) => worker.stop(60_000)));
  const counts = sink.countByKey();
  const perShopper = Object.fromEntries(
    queued.map((shopper) => [shopper, counts.get(`sale:${saleId}:shopper:${shopper}:sold-out`) ?? 0]),
  );
  const duplicated = Object.entries(perShopper).filter(([, n]) => n !== 1);
  expect(duplicated).toEqual([]);
});
