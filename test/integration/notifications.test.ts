import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Pool } from 'pg';
import { chromium } from 'playwright-core';
import { createOutcomeNotice } from '../../activities/outcome-notice';
import { joinQueue, pollPosition, queueTicketHeader } from '../../clients/waiting-room-client';
import { smtpNotifier } from '../../notifications/notifier';
import type { CaughtMail } from '../../scripts/stack/mail-catcher';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import type { AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitUntilSettled, type ReservationAnswer } from '../helpers/payments';
import { createTestSale, waitFor } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  // Two worker processes on one task queue, both mailing the same catcher.
  ({ app, api, db } = await startIntegrationApp({ mail: true, workers: 2 }));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

/** Every mail the catcher received for a reservation, read through its web API. */
async function mailsFor(reservationId: string): Promise<CaughtMail[]> {
  const all = (await (await fetch(`${app.mail!.webUrl}/messages`)).json()) as CaughtMail[];
  return all.filter((m) => m.headers['x-notification-key']?.startsWith(`${reservationId}:`));
}

async function reserve(name: string, holdSeconds = 60) {
  const sale = await createTestSale(api, { units: 1, holdSeconds, priceCents: 12_345 });
  const shopper = `${name}-${sale.id}`;
  const token = await shopperToken(shopper);
  const claim = await api.post<ReservationAnswer & { expiresAt: string }>(`/v1/sales/${sale.id}/reservations`, { token });
  expect(claim.status).toBe(201);
  return { token, shopper, reservation: claim.body };
}

/** The outcome activity as a worker runs it, mailing the test's catcher. */
const outcomeNotice = () =>
  createOutcomeNotice({
    pool: db,
    notifier: smtpNotifier({ smtpUrl: app.mail!.smtpUrl, from: 'test@flash-sale.invalid', shopperDomain: 'shoppers.invalid' }),
    noticeLeaseSeconds: 30,
  });

const pay = (id: string, token: string, paymentMethod: string) =>
  api.post(`/v1/reservations/${id}/payment`, { token, body: { paymentMethod } });

async function expectOneMail(reservationId: string, outcome: string, shopper: string): Promise<CaughtMail> {
  await waitFor(
    () => mailsFor(reservationId),
    (m) => m.length > 0,
    20_000,
    `${outcome} e-mail`,
  );
  // Give a duplicate from the other worker time to arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const mails = await mailsFor(reservationId);
  expect(mails).toHaveLength(1);
  const [mail] = mails;
  expect(mail!.headers['x-notification-key']).toBe(`${reservationId}:${outcome}`);
  expect(mail!.messageId).toBe(`<${reservationId}.${outcome}@shoppers.invalid>`);
  expect(mail!.to).toBe(`${shopper}@shoppers.invalid`);
  expect(mail!.text).toContain('XPhone 15');
  expect(mail!.text).toContain('€123.45');
  expect(mail!.html).toContain('<h1>');
  const { rows } = await db.query(`select state from notifications where reservation_id = $1`, [reservationId]);
  expect(rows).toEqual([{ state: 'sent' }]);
  return mail!;
}

test('paid: one confirmation e-mail', async () => {
  const { token, shopper, reservation } = await reserve('paid');
  expect((await pay(reservation.id, token, 'tok_visa')).status).toBe(202);
  expect((await waitUntilSettled(api, reservation.id, token)).status).toBe('paid');
  const mail = await expectOneMail(reservation.id, 'paid', shopper);
  expect(mail.subject).toBe('Your order is confirmed: XPhone 15');
});

test('declined: one e-mail saying the card was declined', async () => {
  const { token, shopper, reservation } = await reserve('declined');
  expect((await pay(reservation.id, token, 'tok_chargeDeclined')).status).toBe(202);
  expect((await waitUntilSettled(api, reservation.id, token)).status).toBe('payment_failed');
  const mail = await expectOneMail(reservation.id, 'payment_failed', shopper);
  expect(mail.subject).toBe('Your payment was declined: XPhone 15');
});

test('expired: one e-mail when the hold ends unpaid', async () => {
  const { token, shopper, reservation } = await reserve('expired', 1);
  expect((await waitUntilSettled(api, reservation.id, token, 20_000)).status).toBe('expired');
  const mail = await expectOneMail(reservation.id, 'expired', shopper);
  expect(mail.subject).toBe('Your hold has expired: XPhone 15');
});

test('cancelled: one e-mail; sending the notice again (a retried activity) sends nothing', async () => {
  const { token, shopper, reservation } = await reserve('cancelled');
  expect((await api.post(`/v1/reservations/${reservation.id}/cancel`, { token })).status).toBeLessThan(300);
  const mail = await expectOneMail(reservation.id, 'cancelled', shopper);
  expect(mail.subject).toBe('Your reservation is cancelled: XPhone 15');

  const notifyOutcome = outcomeNotice();
  const notice = { reservationId: reservation.id, outcome: 'cancelled' as const };
  await notifyOutcome(notice);
  expect(await mailsFor(reservation.id)).toHaveLength(1);

  // A worker died after claiming (and maybe sending): while its lease lives nobody sends; once it
  // lapses the next attempt sends again, with the same Message-ID.
  await db.query(
    `update notifications set state = 'pending', sent_at = null, lease_until = now() + interval '1 minute' where reservation_id = $1`,
    [reservation.id],
  );
  await expect(notifyOutcome(notice)).rejects.toThrow(/being sent elsewhere/);
  await db.query(`update notifications set lease_until = now() - interval '1 second' where reservation_id = $1`, [
    reservation.id,
  ]);
  await notifyOutcome(notice);
  const mails = await mailsFor(reservation.id);
  expect(mails.map((m) => m.messageId)).toEqual([mail.messageId, mail.messageId]);
});

test('two workers sending the same notice at once: one claims and sends, the other backs off', async () => {
  const { reservation } = await reserve('race');
  const workers = [outcomeNotice(), outcomeNotice()];
  const notice = { reservationId: reservation.id, outcome: 'paid' as const };
  const results = await Promise.allSettled(workers.map((notifyOutcome) => notifyOutcome(notice)));
  const failures = results.filter((r) => r.status === 'rejected').map((r) => String(r.reason));
  // Either the loser saw the live lease (and its activity would retry) or it came after the mark.
  expect(failures.every((f) => /being sent elsewhere/.test(f))).toBe(true);
  await workers[1]!(notice); // the loser's retry
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(await mailsFor(reservation.id)).toHaveLength(1);
});

/** Mails of one kind for a subject (a reservation id, or `sale:<id>:shopper:<id>`). */
async function mailsOfKind(subject: string, kind: string): Promise<CaughtMail[]> {
  const all = (await (await fetch(`${app.mail!.webUrl}/messages`)).json()) as CaughtMail[];
  return all.filter((m) => m.headers['x-notification-key'] === `${subject}:${kind}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('hold reminders (the dispatcher in both workers)', () => {
  test('a 65 s hold gets one reminder about 5 s in, a minute before it ends', async () => {
    const { shopper, reservation } = await reserve('remind', 65);
    const [mail] = await waitFor(
      () => mailsOfKind(reservation.id, 'hold-reminder'),
      (m) => m.length > 0,
      20_000,
      'hold reminder',
    );
    // Both dispatchers pass every second: give a duplicate two passes to show up.
    await sleep(2_500);
    expect(await mailsOfKind(reservation.id, 'hold-reminder')).toHaveLength(1);
    expect(mail!.subject).toBe('Your hold ends in a minute: XPhone 15');
    expect(mail!.to).toBe(`${shopper}@shoppers.invalid`);
    expect(mail!.text).toContain('Unit: #');
    expect(mail!.text).toContain('€123.45');
    expect(mail!.text).toContain(`until ${reservation.expiresAt.slice(11, 19)} UTC`);
    const { rows } = await db.query(
      `select kind, state, attempts, subject from notifications where reservation_id = $1 and kind = 'hold-reminder'`,
      [reservation.id],
    );
    expect(rows).toEqual([{ kind: 'hold-reminder', state: 'sent', attempts: 1, subject: reservation.id }]);
    // Sent before the hold's end, within the minute before it.
    const left = Date.parse(reservation.expiresAt) - Date.parse(mail!.receivedAt);
    expect(left).toBeGreaterThan(50_000);
    expect(left).toBeLessThanOrEqual(60_000);

    // As a developer reads it: the catcher's web view in Debian's chromium, screenshot kept under
    // test-artifacts/ (docs/mail-catcher-hold-reminder.png is one of them).
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 720, height: 600 } });
      await page.goto(app.mail!.webUrl);
      const article = page.locator('article', { hasText: `To ${shopper}@shoppers.invalid` });
      await expect(article.locator('h2').textContent()).resolves.toBe('Your hold ends in a minute: XPhone 15');
      await expect(article.locator('pre').textContent()).resolves.toContain('After that it goes back on sale.');
      const dir = path.resolve(__dirname, '..', '..', 'test-artifacts');
      mkdirSync(dir, { recursive: true });
      await article.screenshot({ path: path.join(dir, 'mail-catcher-hold-reminder.png') });
    } finally {
      await browser.close();
    }
  });

  test('no reminder for a hold paid before its last minute, nor for a hold of a minute or less', async () => {
    const paid = await reserve('paid-early', 65);
    expect((await pay(paid.reservation.id, paid.token, 'tok_visa')).status).toBe(202);
    const short = await reserve('short-hold', 60);
    expect((await waitUntilSettled(api, paid.reservation.id, paid.token)).status).toBe('paid');
    // The paid hold's last minute began 5 s after its claim; the 60 s hold's at once.
    await waitFor(
      async () => Date.now(),
      (now) => now > Date.parse(paid.reservation.expiresAt) - 60_000 + 3_000,
      20_000,
      'past the reminder point',
    );
    expect(await mailsOfKind(paid.reservation.id, 'hold-reminder')).toEqual([]);
    expect(await mailsOfKind(short.reservation.id, 'hold-reminder')).toEqual([]);
    const { rows } = await db.query(
      `select reservation_id from notifications where kind = 'hold-reminder' and reservation_id = any($1)`,
      [[paid.reservation.id, short.reservation.id]],
    );
    expect(rows).toEqual([]);
  });
});

test('waitlist offer: the shopper a release offers a unit to is told once', async () => {
  const sale = await createTestSale(api, { units: 1, releasePolicy: 'waitlist', priceCents: 12_345 });
  const [holder, waiter] = [`wl-holder-${sale.id}`, `wl-waiter-${sale.id}`];
  const [holderToken, waiterToken] = await Promise.all([shopperToken(holder), shopperToken(waiter)]);
  const held = await api.post<ReservationAnswer>(`/v1/sales/${sale.id}/reservations`, { token: holderToken });
  expect(held.status).toBe(201);
  expect((await api.post(`/v1/sales/${sale.id}/waitlist`, { token: waiterToken })).status).toBe(201);
  expect((await api.post(`/v1/reservations/${held.body.id}/cancel`, { token: holderToken })).status).toBe(200);
  const offer = await waitFor(
    async () => (await api.get<{ status: string; reservationId?: string }>(`/v1/sales/${sale.id}/waitlist/me`, waiterToken)).body,
    (entry) => entry.status === 'offered',
    20_000,
    'waitlist offer',
  );
  const [mail] = await waitFor(
    () => mailsOfKind(offer.reservationId!, 'waitlist-offer'),
    (m) => m.length > 0,
    20_000,
    'waitlist offer e-mail',
  );
  await sleep(2_500);
  expect(await mailsOfKind(offer.reservationId!, 'waitlist-offer')).toHaveLength(1);
  expect(mail!.subject).toBe('A unit is waiting for you: XPhone 15');
  expect(mail!.to).toBe(`${waiter}@shoppers.invalid`);
  expect(mail!.text).toContain('You were next on the waitlist');
});

test('sold out: every shopper still queued is told once; the buyer is not', async () => {
  const { id: saleId } = await createTestSale(api, {
    units: 1,
    priceCents: 12_345,
    waitingRoom: { admitPerSecond: 1, powDifficulty: 4 },
  });
  const shoppers = ['buyer', 'queued-1', 'queued-2'].map((name) => `so-${name}-${saleId}`);
  const tokens = await Promise.all(shoppers.map((shopper) => shopperToken(shopper)));
  // One after another, so the buyer is first in line (the sale has started: FIFO).
  const tickets = [];
  for (const token of tokens) tickets.push(await joinQueue(app.apiUrl, saleId, token));
  const admitted = await pollPosition(app.apiUrl, saleId, tokens[0]!, { intervalMs: 250 });
  expect(admitted.status).toBe('admitted');
  const claim = await api.post<ReservationAnswer>(`/v1/sales/${saleId}/reservations`, {
    token: tokens[0],
    headers: queueTicketHeader(tickets[0]!),
  });
  expect(claim.status).toBe(201);
  expect((await pay(claim.body.id, tokens[0]!, 'tok_visa')).status).toBe(202);
  expect((await waitUntilSettled(api, claim.body.id, tokens[0]!)).status).toBe('paid');

  for (const shopper of shoppers.slice(1)) {
    const [mail] = await waitFor(
      () => mailsOfKind(`sale:${saleId}:shopper:${shopper}`, 'sold-out'),
      (m) => m.length > 0,
      20_000,
      `sold-out e-mail to ${shopper}`,
    );
    expect(mail!.to).toBe(`${shopper}@shoppers.invalid`);
    expect(mail!.subject).toContain('XPhone 15');
  }
  // Two workers dispatch: give a duplicate time to arrive before counting.
  await sleep(2_500);
  for (const shopper of shoppers.slice(1))
    expect(await mailsOfKind(`sale:${saleId}:shopper:${shopper}`, 'sold-out')).toHaveLength(1);
  expect(await mailsOfKind(`sale:${saleId}:shopper:${shoppers[0]}`, 'sold-out')).toEqual([]);
});
