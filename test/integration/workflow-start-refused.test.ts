import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { msToTs } from '@temporalio/common/lib/time';
import { freePort } from '../../scripts/stack/free-port';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import { shopperToken } from '../helpers/api-client';
import { TEST_SECRETS } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { testTemporalClient } from '../helpers/temporal-client';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale, waitFor, type SaleAnswer } from '../helpers/sales';
import { openSse } from '../helpers/sse';
import { metricSample } from '../helpers/metrics';

/*
 * Starts of a reservation workflow that Temporal refuses for good, against the real processes.
 *
 * 1. An app on a namespace that lacks the custom search attributes (an operator's slip: the
 *    namespace was created without `SaleId`, `ShopperId`, `ReservationStatus`). Temporal answers
 *    every start INVALID_ARGUMENT, the same as it answers a search-attribute value over its size
 *    limit. The relay must give the unit back, record why, and say so; pay and cancel must answer
 *    a 409 that names the problem, not a 503 that invites a retry for ever.
 * 2. An app on the usual namespace, a sale with a 200-character non-ASCII name and a shopper with
 *    a 128-character non-ASCII id: what goes to Temporal must stay inside its documented limits
 *    (summary 400 bytes, `limit.userMetadataSummarySize`) and the reservation work as any other.
 */
const ADMIN = TEST_SECRETS.ADMIN_TOKEN;

interface Problem {
  type?: string;
  detail?: string;
}

/** The size Temporal's frontend compares with `limit.userMetadataSummarySize`: the serialized Payload. */
function payloadSize(text: string): number {
  const payload = defaultPayloadConverter.toPayload(text)!;
  const field = (n: number) => 1 + (n < 128 ? 1 : n < 16_384 ? 2 : 3) + n;
  let size = field(payload.data!.length);
  for (const [key, value] of Object.entries(payload.metadata ?? {}))
    size += field(field(Buffer.byteLength(key)) + field(value.length));
  return size;
}

describe('a start Temporal refuses for good (namespace without the search attributes)', () => {
  let parts: IntegrationApp;
  let metricsUrl: string;
  let connection: Connection;

  beforeAll(async () => {
    const namespace = `no-search-attributes-${randomUUID().slice(0, 8)}`;
    connection = await Connection.connect({ address: testInfra().temporalAddress });
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await waitFor(
      () =>
        connection.workflowService.describeNamespace({ namespace }).then(
          () => true,
          () => false,
        ),
      (known) => known,
      10_000,
      `namespace ${namespace} registered`,
    );
    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    parts = await startIntegrationApp(
      {
        env: { TEMPORAL_NAMESPACE: namespace },
        apiEnv: { DASHBOARD_CHECK_EVERY_MS: '1000' },
        workerEnv: { WORKER_APP_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`, OUTBOX_LEASE_SECONDS: '2' },
      },
      8,
    );
  });

  afterAll(async () => {
    await stopIntegrationApp(parts);
    await connection?.close();
  });

  async function claimOne(): Promise<{ sale: SaleAnswer; token: string; reservation: ReservationAnswer }> {
    const sale = await createTestSale(parts.api, { units: 1, holdSeconds: 300 });
    const token = await shopperToken(`refused-${sale.id}`);
    const claim = await parts.api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token });
    expect(claim.status).toBe(201);
    return { sale, token, reservation: claim.body };
  }

  test('pay and cancel answer 409 start-refused, not 503', async () => {
    const { token, reservation } = await claimOne();
    const pay = await parts.api.post<Problem>(`/v1/reservations/${reservation.id}/payment`, {
      token,
      body: { paymentMethod: 'tok_visa' },
    });
    expect({ status: pay.status, type: pay.body.type }).toEqual({
      status: 409,
      type: expect.stringMatching(/\/start-refused$/) as unknown,
    });
    const cancel = await parts.api.post<Problem>(`/v1/reservations/${reservation.id}/cancel`, { token });
    expect({ status: cancel.status, type: cancel.body.type }).toEqual({
      status: 409,
      type: expect.stringMatching(/\/start-refused$/) as unknown,
    });
    // Settled before the next test reads the counter.
    expect((await waitUntilSettled(parts.api, reservation.id, token)).status).toBe('cancelled');
  });

  test('the relay gives the unit back, records why, and the dashboard, the metric and the checker show it', async () => {
    const before = await metricSample(metricsUrl, 'outbox_workflow_starts_given_up_total', { reason: 'refused' });
    const { sale, token, reservation } = await claimOne();

    const after = await waitFor(
      async () => (await parts.api.get<SaleAnswer>(`/v1/sales/${sale.id}`)).body,
      (s) => s.available === 1 && s.held === 0,
      20_000,
      `the unit of sale ${sale.id} given back`,
    );
    expect(after).toMatchObject({ available: 1, held: 0, sold: 0 });
    expect((await parts.api.get<ReservationAnswer>(`/v1/reservations/${reservation.id}`, token)).body.status).toBe('cancelled');

    const row = await parts.db.query<{ start_refusal: string | null; start_refused_at: Date | null }>(
      'select start_refusal, start_refused_at from reservations where id = $1',
      [reservation.id],
    );
    expect(row.rows[0]?.start_refusal).toMatch(/search attribute/i);
    expect(row.rows[0]?.start_refused_at).toBeInstanceOf(Date);

    const stream = await openSse(`${parts.app.apiUrl}/v1/admin/sales/${sale.id}/events`, { token: ADMIN });
    try {
      const snapshot = await stream.next(
        (e) => e.event === 'snapshot' && (e.data as { invariants: unknown }).invariants !== null,
        20_000,
        'a dashboard snapshot with the verdict',
      );
      expect(snapshot.data).toMatchObject({ startsRefused: 1, units: { available: 1, held: 0 } });
      expect((snapshot.data as { lastStartRefusal: unknown }).lastStartRefusal).toMatch(/search attribute/i);
      expect((snapshot.data as { invariants: unknown }).invariants).toMatchObject({ ok: true, violations: [] });
    } finally {
      stream.close();
    }

    expect(await metricSample(metricsUrl, 'outbox_workflow_starts_given_up_total', { reason: 'refused' })).toBe(before + 1);
    const report = await parts.api.get<{ violations: unknown[] }>(`/v1/admin/sales/${sale.id}/invariants`, ADMIN);
    expect(report.status).toBe(200);
    expect(report.body.violations).toEqual([]);

    // The unit is claimable again (the release notified the API's sold-out registry).
    const next = await parts.api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, {
      token: await shopperToken(`refused-next-${sale.id}`),
    });
    expect(next.status).toBe(201);

    // The refused reservation no longer counts as waiting for its workflow. The gauge reads the
    // whole database, which other files share (their waits are seconds old), so the refused row is
    // made a day old: counted, it would be the oldest by far.
    await parts.db.query("update reservations set created_at = now() - interval '1 day' where id = $1", [reservation.id]);
    expect(await metricSample(metricsUrl, 'outbox_oldest_unstarted_seconds')).toBeLessThan(3_600);
  });
});

describe('a sale and a shopper with long non-ASCII names (usual namespace)', () => {
  let parts: IntegrationApp;
  let temporal: Client;
  let connection: Connection;

  beforeAll(async () => {
    parts = await startIntegrationApp({}, 8);
    connection = await Connection.connect({ address: testInfra().temporalAddress });
    temporal = testTemporalClient(connection);
  });

  afterAll(async () => {
    await stopIntegrationApp(parts);
    await connection?.close();
  });

  test('the workflow starts with its summary inside Temporal’s 400-byte limit, and the reservation is paid', async () => {
    const name = '北京限定版智能手机'.repeat(23).slice(0, 200); // 200 characters, 600 bytes of UTF-8
    const shopper = '雪'.repeat(128); // the longest subject api/auth.ts accepts, 384 bytes
    const sale = await createTestSale(parts.api, { name, units: 1, holdSeconds: 300 });
    expect(sale).toMatchObject({ id: expect.any(String) as unknown });
    const token = await shopperToken(shopper);
    const claim = await parts.api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token });
    expect(claim.status).toBe(201);

    await waitFor(
      async () =>
        (
          await parts.db.query<{ started: boolean }>(
            'select workflow_started_at is not null as started from reservations where id = $1',
            [claim.body.id],
          )
        ).rows[0]?.started,
      (started) => started === true,
      20_000,
      'the relay started the workflow',
    );
    const description = await temporal.workflow.getHandle(reservationWorkflowId(claim.body.id)).describe();
    const summary = (await description.staticSummary()) ?? '';
    expect(payloadSize(summary)).toBeLessThanOrEqual(400);
    expect(summary.startsWith('北京限定版')).toBe(true);
    expect(summary.endsWith(` · unit ${claim.body.unitId}`)).toBe(true);
    expect(summary).not.toMatch(/\uFFFD/);

    const pay = await parts.api.post<ReservationAnswer>(`/v1/reservations/${claim.body.id}/payment`, {
      token,
      body: { paymentMethod: 'tok_visa' },
    });
    expect(pay.status).toBe(202);
    expect((await waitUntilSettled(parts.api, claim.body.id, token)).status).toBe('paid');
  });
});
