/*
 * The checkout page's waitlist offer in Debian's chromium on a phone-sized screen, against real
 * processes: a 1-unit sale with `releasePolicy: 'waitlist'`, held by one shopper; another finds it
 * sold out, joins the waitlist and sees their place live; the first cancels, and the released unit
 * arrives on the second shopper's page as a hold they pay for. Controls are found by their
 * accessible names only (getByRole). Screenshots go to test-artifacts/.
 */
import { randomUUID } from 'node:crypto';
import type { Browser, BrowserContext } from 'playwright-core';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { buildWebPages, launchBrowser, phoneContext, PHONE_VIEWPORT, recordPageErrors, saveScreenshot } from '../helpers/browser';
import { createTestSale } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let browser: Browser;
let context: BrowserContext | undefined;

beforeAll(async () => {
  buildWebPages();
  [app, browser] = await Promise.all([startAppUnderTest({ devSignIn: true }), launchBrowser()]);
  api = apiClient(app.apiUrl);
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await api?.close();
  await app?.stop();
});

it('offers a sold-out waitlist sale’s waitlist, shows the place live and turns the released unit into a hold the shopper pays', async () => {
  const sale = await createTestSale(api, { units: 1, holdSeconds: 120, releasePolicy: 'waitlist' });
  const aliceToken = await shopperToken('alice');
  const held = await api.post(`/v1/sales/${sale.id}/reservations`, {
    token: aliceToken,
    headers: { 'Idempotency-Key': randomUUID() },
  });
  expect(held.status).toBe(201);

  context = await phoneContext(browser, { baseURL: app.apiUrl });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const requests: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/v1/')) requests.push(`${request.method()} ${url.pathname}`);
  });
  await page.goto(`/sales/${sale.id}`);
  await page.getByRole('textbox', { name: 'Shopper name' }).fill('bob');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Reserve one' }).click();

  await page.getByRole('heading', { name: 'Sold out' }).waitFor();
  await page.getByRole('button', { name: 'Join the waitlist' }).click();
  await page.getByRole('heading', { name: 'On the waitlist' }).waitFor();
  await page.getByText('You are next').waitFor();
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE_VIEWPORT.width);
  await saveScreenshot(page, 'waitlist-1-waiting');

  // Alice lets go: the release offers the unit to bob, and his page hears it without a reload.
  const cancelled = await api.post(`/v1/reservations/${String(held.body.id)}/cancel`, { token: aliceToken });
  expect(cancelled.status).toBeLessThan(300);
  await page.getByRole('heading', { name: 'Reserved for you' }).waitFor({ timeout: 30_000 });
  expect(await page.getByRole('timer', { name: 'Reserved for you' }).textContent()).toMatch(/^(2:00|1:[0-5]\d)$/);
  await saveScreenshot(page, 'waitlist-2-offer');

  await page.getByRole('radio', { name: 'Visa test card (succeeds)' }).check();
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.getByRole('heading', { name: 'Paid: it is yours' }).waitFor({ timeout: 30_000 });
  await saveScreenshot(page, 'waitlist-3-paid');

  const bob = await api.get<{ status: string; reservationId: string }>(
    `/v1/sales/${sale.id}/waitlist/me`,
    await shopperToken('bob'),
  );
  expect(bob.body.status).toBe('purchased');
  const reservation = await api.get(`/v1/reservations/${bob.body.reservationId}`, TEST_SECRETS.ADMIN_TOKEN);
  expect(reservation.body).toMatchObject({ status: 'paid', userId: 'bob', origin: 'waitlist', payment: { status: 'captured' } });
  // Followed live: one waitlist stream; the entry itself was read once, at sign-in (is bob
  // already on the waitlist?), never while waiting.
  expect(requests.filter((request) => request.endsWith('/waitlist/me/events'))).toHaveLength(1);
  expect(requests.filter((request) => request === `GET /v1/sales/${sale.id}/waitlist/me`)).toHaveLength(1);
  expect(errors.errors).toEqual([]);
}, 120_000);
