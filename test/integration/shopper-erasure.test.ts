import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Pool } from 'pg';
import { shopperQuery } from '../../clients/shopper-workflows';
import { joinQueue, pollPosition, queueTicketHeader } from '../../clients/waiting-room-client';
import { pseudonymiseShopperRows } from '../../db/queries/erase-shopper-rows';
import { beginErasure } from '../../db/queries/shopper-erasures';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import type { ErasureView, ShopperExport } from '../../domain/shopper-data';
import { shopperPseudonym } from '../../api/services/shopper-pseudonym';
import type { CaughtMail } from '../../scripts/stack/mail-catcher';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale, waitFor } from '../helpers/sales';
import { testTemporalClient } from '../helpers/temporal-client';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;
let connection: Connection;
let temporal: Client;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ mail: true }));
  connection = await Connection.connect({ address: testInfra().temporalAddress });
  temporal = testTemporalClient(connection);
});

afterAll(async () => {
  await connection?.close();
  await stopIntegrationApp({ app, api, db });
});

const admin = TEST_SECRETS.ADMIN_TOKEN;
const erase = (shopperId: string) =>
  api.post<ErasureView & { type?: string; reservationIds?: string[] }>(
    `/v1/admin/shoppers/${encodeURIComponent(shopperId)}/erase`,
    { token: admin },
  );

async function workflowStatus(reservationId: string): Promise<string> {
  try {
    return (await temporal.workflow.getHandle(reservationWorkflowId(reservationId)).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'NOT_FOUND';
    throw error;
  }
}

/** Waits until each reservation's workflow has closed (its outcome notice sent), as an erasure requires. */
async function workflowsClosed(reservationIds: string[]): Promise<void> {
  await waitFor(
    () => Promise.all(reservationIds.map(workflowStatus)),
    (statuses) => statuses.every((s) => s === 'COMPLETED'),
    60_000,
    'reservation workflows closed',
  );
}

async function visibleWorkflows(shopperId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of temporal.workflow.list({ query: shopperQuery(shopperId) })) ids.push(execution.workflowId);
  return ids;
}

async function mailsTo(address: string): Promise<CaughtMail[]> {
  const all = (await (await fetch(`${app.mail!.webUrl}/messages`)).json()) as CaughtMail[];
  return all.filter((m) => m.to === address);
}

/** Rows of each table still naming the shopper, by id or in a notice's subject; and rows under the pseudonym. */
async function census(shopperId: string, pseudonym: string) {
  const { rows } = await db.query<Record<string, number>>(
    `select
       (select count(*) from reservations where user_id = $1)::int as "reservations",
       (select count(*) from queue_tickets where shopper_id = $1)::int as "queueTickets",
       (select count(*) from waitlist_entries where user_id = $1)::int as "waitlistEntries",
       (select count(*) from notifications n where n.shopper_id = $1 or n.subject like '%' || $1 || '%'
           or n.reservation_id in (select id from reservations where user_id in ($1, $2)))::int as "notices",
       (select count(*) from webhook_events where reference in (select id::text from reservations where user_id in ($1, $2)))::int
         as "webhookEvents",
       (select count(*) from reservations where user_id = $2)::int as "pseudonymisedReservations",
       (select count(*) from queue_tickets where shopper_id = $2)::int as "pseudonymisedTickets",
       (select count(*) from charges c join reservations r on r.id = c.reservation_id where r.user_id = $2)::int as "keptCharges",
       (select count(*) from units u join reservations r on r.id = u.reservation_id
         where r.user_id = $2 and u.status = 'sold')::int as "keptSoldUnits"`,
    [shopperId, pseudonym],
  );
  return rows[0]!;
}

/** How many items each part of an export holds. */
function partCounts(data: ShopperExport): Record<string, number> {
  const { shopperId: _, exportedAt: __, ...parts } = data;
  return Object.fromEntries(Object.entries(parts).map(([name, items]) => [name, items.length]));
}

async function invariantViolations(saleId: string): Promise<unknown[]> {
  const report = await api.get<{ violations: unknown[] }>(`/v1/admin/sales/${saleId}/invariants`, admin);
  expect(report.status).toBe(200);
  return report.body.violations;
}

test('a shopper with a paid and an expired reservation, a queue ticket and notices: exported, refused while a hold is live, erased, erased again', async () => {
  const room = await createTestSale(api, { units: 2, holdSeconds: 60, waitingRoom: { admitPerSecond: 100, powDifficulty: 0 } });
  const plain = await createTestSale(api, { units: 2, holdSeconds: 2 });
  const other = await createTestSale(api, { units: 2, holdSeconds: 300 });
  const shopperId = `erasure-${room.id}`;
  const pseudonym = shopperPseudonym(TEST_SECRETS.ERASURE_SECRET, shopperId);
  const token = await shopperToken(shopperId);
  const address = `${shopperId}@shoppers.invalid`;

  // Paid, through the waiting room: a queue ticket, an admission, a claim, a capture.
  const ticket = await joinQueue(app.apiUrl, room.id, token);
  expect((await pollPosition(app.apiUrl, room.id, token, { intervalMs: 250 })).status).toBe('admitted');
  const paidClaim = await api.post<ReservationAnswer>(`/v1/sales/${room.id}/reservations`, {
    token,
    headers: queueTicketHeader(ticket),
  });
  expect(paidClaim.status).toBe(201);
  const paid = paidClaim.body;
  expect((await api.post(`/v1/reservations/${paid.id}/payment`, { token, body: { paymentMethod: 'tok_visa' } })).status).toBe(
    202,
  );
  expect((await waitUntilSettled(api, paid.id, token)).status).toBe('paid');
  // Expired: a 2-second hold left unpaid.
  const expiredClaim = await api.post<ReservationAnswer>(`/v1/sales/${plain.id}/reservations`, { token });
  expect(expiredClaim.status).toBe(201);
  const expired = expiredClaim.body;
  expect((await waitUntilSettled(api, expired.id, token)).status).toBe('expired');

  // A live hold: the erasure is refused, and changes nothing.
  const liveClaim = await api.post<ReservationAnswer>(`/v1/sales/${other.id}/reservations`, { token });
  expect(liveClaim.status).toBe(201);
  const live = liveClaim.body;
  const refused = await erase(shopperId);
  expect(refused.status).toBe(409);
  expect(refused.contentType).toContain('application/problem+json');
  expect(refused.body.type).toBe('https://flash-sale.example/problems/shopper-has-live-reservation');
  expect(refused.body.reservationIds).toEqual([live.id]);
  expect((await db.query(`select 1 from shopper_erasures where pseudonym = $1`, [pseudonym])).rowCount).toBe(0);
  expect((await census(shopperId, pseudonym)).reservations).toBe(3);
  expect((await api.post(`/v1/reservations/${live.id}/cancel`, { token })).status).toBe(200);

  // Every notice is sent and every workflow closed; the provider's webhook for the capture recorded.
  await workflowsClosed([paid.id, expired.id, live.id]);
  await waitFor(
    () => mailsTo(address),
    (mails) => mails.length >= 3,
    30_000,
    'the paid, expired and cancelled e-mails',
  );
  await waitFor(
    async () => (await db.query(`select 1 from webhook_events where reference = $1`, [paid.id])).rowCount,
    (n) => (n ?? 0) > 0,
    30_000,
    "the capture's webhook",
  );

  const before = await api.get<ShopperExport>('/v1/me/export', token);
  expect(before.status).toBe(200);
  expect(before.body.shopperId).toBe(shopperId);
  expect(before.body.reservations.map((r) => [r.id, r.status])).toEqual([
    [paid.id, 'paid'],
    [expired.id, 'expired'],
    [live.id, 'cancelled'],
  ]);
  expect(before.body.reservations[0]).toMatchObject({
    saleName: 'XPhone 15',
    paymentMethod: 'tok_visa',
    queueTicketId: ticket.ticketId,
  });
  expect(before.body.charges).toEqual([
    expect.objectContaining({ reservationId: paid.id, status: 'captured', amountCents: 99_900, currency: 'EUR' }),
  ]);
  expect(before.body.paymentAttempts.map((a) => a.reservationId)).toEqual([paid.id]);
  expect(before.body.webhookEvents.map((w) => [w.reservationId, w.type])).toContainEqual([paid.id, 'charge.succeeded']);
  expect(before.body.queueTickets).toEqual([
    expect.objectContaining({
      id: ticket.ticketId,
      saleId: room.id,
      position: 1,
      admittedUntil: expect.any(String),
      leftAt: null,
    }),
  ]);
  expect(before.body.notices.map((n) => [n.reservationId, n.kind, n.state, n.address])).toEqual([
    [paid.id, 'paid', 'sent', address],
    [expired.id, 'expired', 'sent', address],
    [live.id, 'cancelled', 'sent', address],
  ]);
  // What was sent: the export's e-mail is the one the mail catcher received.
  const paidMail = (await mailsTo(address)).find((m) => m.headers['x-notification-key'] === `${paid.id}:paid`);
  expect(before.body.notices[0]!.email.subject).toBe(paidMail!.subject);
  expect(before.body.notices[0]!.email.text.trim()).toBe(paidMail!.text.trim());
  expect(await visibleWorkflows(shopperId)).toHaveLength(3);
  expect(await invariantViolations(room.id)).toEqual([]);
  const censusBefore = await census(shopperId, pseudonym);

  const erased = await erase(shopperId);
  expect(erased.status).toBe(200);
  expect(erased.body).toMatchObject({
    status: 'erased',
    pseudonym,
    attempts: 1,
    erased: {
      pseudonymised: { reservations: 3, queueTickets: 1 },
      deleted: {
        waitlistEntries: 0,
        notices: 3,
        webhookEvents: before.body.webhookEvents.length,
        holdExtensions: 0,
        workflows: 3,
      },
    },
  });
  expect(pseudonym).toMatch(/^erased:[0-9a-f]{64}$/);

  // Nothing is stored under the id any more; the accounts are kept under the pseudonym.
  const after = await api.get<ShopperExport>('/v1/me/export', token);
  expect(after.status).toBe(200);
  expect(Object.values(partCounts(after.body)).every((n) => n === 0)).toBe(true);
  const censusAfter = await census(shopperId, pseudonym);
  expect(censusAfter).toEqual({
    reservations: 0,
    queueTickets: 0,
    waitlistEntries: 0,
    notices: 0,
    webhookEvents: 0,
    pseudonymisedReservations: 3,
    pseudonymisedTickets: 1,
    keptCharges: 1,
    keptSoldUnits: 1,
  });
  const { rows: kept } = await db.query(
    `select r.user_id, r.idempotency_key, r.payment_method, r.charge_id, u.status as unit_status, c.status as charge_status
     from reservations r join units u on u.sale_id = r.sale_id and u.id = r.unit_id join charges c on c.reservation_id = r.id
     where r.id = $1`,
    [paid.id],
  );
  expect(kept).toEqual([
    {
      user_id: pseudonym,
      idempotency_key: null,
      payment_method: null,
      charge_id: before.body.charges[0]!.id,
      unit_status: 'sold',
      charge_status: 'captured',
    },
  ]);
  // The reservation reads as the pseudonym's, for support, and no longer as the shopper's.
  expect((await api.get(`/v1/reservations/${paid.id}`, token)).status).toBe(404);
  expect((await api.get<ReservationAnswer & { userId: string }>(`/v1/reservations/${paid.id}`, admin)).body.userId).toBe(
    pseudonym,
  );

  // Temporal: every execution deleted, and gone from visibility.
  // Temporal deletes asynchronously: describe() finds the executions until it has.
  const erasedAt = Date.now();
  await waitFor(
    () => Promise.all([paid.id, expired.id, live.id].map(workflowStatus)),
    (statuses) => statuses.every((status) => status === 'NOT_FOUND'),
    150_000,
    'the deleted executions',
  );
  const deletionMs = Date.now() - erasedAt;
  await waitFor(
    () => visibleWorkflows(shopperId),
    (ids) => ids.length === 0,
    30_000,
    'the shopper in Temporal visibility',
  );

  // The checker still passes on both sales, the waiting room's included.
  expect(await invariantViolations(room.id)).toEqual([]);
  expect(await invariantViolations(plain.id)).toEqual([]);

  // A second erasure answers the same, without doing anything again.
  const again = await erase(shopperId);
  expect(again.status).toBe(200);
  expect(again.body).toEqual(erased.body);

  const summary = {
    shopperId,
    pseudonym,
    exportBefore: partCounts(before.body),
    exportAfter: partCounts(after.body),
    tablesBefore: censusBefore,
    tablesAfter: censusAfter,
    temporalVisibilityBefore: 3,
    temporalVisibilityAfter: 0,
    temporalDeletionSeconds: Math.round(deletionMs / 1000),
    erased: erased.body.erased,
    invariantViolationsAfter: 0,
    secondErase: 'same answer, 200',
  };
  const dir = path.join(__dirname, '../../test-artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'shopper-erasure-summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  console.log(`shopper erasure, before → after:\n${JSON.stringify(summary, null, 2)}`);
}, 360_000);

test('an erasure that stopped after its first step (a crash) is finished by the next call', async () => {
  const sale = await createTestSale(api, { units: 1, holdSeconds: 2 });
  const shopperId = `crashed-erasure-${sale.id}`;
  const pseudonym = shopperPseudonym(TEST_SECRETS.ERASURE_SECRET, shopperId);
  const token = await shopperToken(shopperId);
  const claim = await api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token });
  expect(claim.status).toBe(201);
  expect((await waitUntilSettled(api, claim.body.id, token)).status).toBe('expired');
  await workflowsClosed([claim.body.id]);
  await waitFor(
    async () =>
      (await db.query(`select 1 from notifications where reservation_id = $1 and state = 'sent'`, [claim.body.id])).rowCount,
    (n) => n === 1,
    30_000,
    'the expired notice',
  );

  // What the service does before a crash right after step 1: the erasure row, the pseudonym on the reservation.
  await beginErasure(db, pseudonym);
  await pseudonymiseShopperRows(db, shopperId, pseudonym);
  expect((await census(shopperId, pseudonym)).notices).toBe(1);

  const finished = await erase(shopperId);
  expect(finished.status).toBe(200);
  expect(finished.body).toMatchObject({
    attempts: 2,
    erased: { pseudonymised: { reservations: 1, queueTickets: 0 }, deleted: { notices: 1, workflows: 1 } },
  });
  expect(await census(shopperId, pseudonym)).toMatchObject({ reservations: 0, notices: 0, pseudonymisedReservations: 1 });
  const erasedAt = Date.now();
  await waitFor(
    () => workflowStatus(claim.body.id),
    (status) => status === 'NOT_FOUND',
    150_000,
    'the deleted execution',
  );
  console.log(`crashed erasure finished; Temporal deleted the execution ${Math.round((Date.now() - erasedAt) / 1000)} s after`);
  expect(await invariantViolations(sale.id)).toEqual([]);
  expect((await erase(shopperId)).body).toEqual(finished.body);
}, 300_000);

test('erase: the admin token only, and a shopper id a token could carry', async () => {
  const token = await shopperToken('erase-caller');
  expect((await api.post('/v1/admin/shoppers/someone/erase', { token })).status).toBe(401);
  expect((await api.post('/v1/admin/shoppers/someone/erase')).status).toBe(401);
  expect((await erase('erased:0123')).status).toBe(400);
  expect((await erase('x'.repeat(129))).status).toBe(400);
  // Nobody by that id: nothing to erase, answered as done; quotes and backslashes reach Temporal's
  // visibility query escaped (an unescaped quote would be refused as a malformed query).
  for (const nobody of [`nobody-${Date.now()}`, `o"brien\\-${Date.now()}`]) {
    const answer = await erase(nobody);
    expect(answer.status).toBe(200);
    expect(answer.body.erased.deleted.workflows).toBe(0);
    expect(await visibleWorkflows(nobody)).toEqual([]);
  }
  expect((await api.get('/v1/me/export')).status).toBe(401);
  // A pseudonym is never a shopper: a token whose subject is one is refused.
  expect((await api.get('/v1/me/export', await shopperToken(shopperPseudonym(TEST_SECRETS.ERASURE_SECRET, 'x')))).status).toBe(
    401,
  );
});
