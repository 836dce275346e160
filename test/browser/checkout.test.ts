/*
 * The checkout page in Debian's chromium on a phone-sized screen, against real processes (API
 * with the development sign-in, worker, payment simulator): one shopper from the countdown to
 * paid, one whose hold expires (across a reload), one whose card is declined. Controls are found by their
 * accessible names only (getByRole), as a screen reader would. Screenshots go to test-artifacts/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiClient, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { buildWebPages, launchBrowser, phoneContext, PHONE_VIEWPORT, recordPageErrors, saveScreenshot } from '../helpers/browser';
import { createTestSale } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  buildWebPages();
  [app, browser] = await Promise.all([startAppUnderTest({ devSignIn: true }), launchBrowser()]);
  api = apiClient(app.apiUrl);
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await api?.close();
  await app?.stop();
});

interface ShopperPage {
  page: Page;
  errors: ReturnType<typeof recordPageErrors>;
  /** Every request the page made to the API, as `METHOD path`. */
  requests: string[];
}

async function openSale(saleId: string): Promise<ShopperPage> {
  const context = await phoneContext(browser, { baseURL: app.apiUrl });
  contexts.push(context);
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  const requests: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/v1/') || url.pathname.startsWith('/dev/')) requests.push(`${request.method()} ${url.pathname}`);
  });
  await page.goto(`/sales/${saleId}`);
  return { page, errors, requests };
}

async function signIn(page: Page, shopperId: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Shopper name' }).fill(shopperId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${shopperId}`).waitFor();
}

async function claim(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Reserve one' }).click();
  await page.getByRole('heading', { name: 'Reserved for you' }).waitFor();
}

/** Nothing wider than the phone: no sideways scrolling. */
async function expectFitsThePhone(page: Page): Promise<void> {
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE_VIEWPORT.width);
}

async function reservationOf(shopper: ShopperPage): Promise<Record<string, unknown>> {
  const id = shopper.requests.find((request) => /^GET \/v1\/reservations\/[^/]+\/events$/.test(request))!.split('/')[3]!;
  const answer = await api.get(`/v1/reservations/${id}`, TEST_SECRETS.ADMIN_TOKEN);
  expect(answer.status).toBe(200);
  return answer.body;
}

/** After the claim the page only listens: one event stream per page load, one read of the reservation per reload. */
/** No uncaught error, and nothing in the console: a CSP refusal or a failed load would show there. */
function expectNoPageErrors(shopper: ShopperPage): void {
  expect(shopper.errors.errors).toEqual([]);
  expect(shopper.errors.console.filter((line) => line.startsWith('error') || line.startsWith('warning'))).toEqual([]);
}

function expectNoPolling(shopper: ShopperPage, reloads = 0): void {
  expect(shopper.requests.filter((request) => /^GET \/v1\/reservations\/[^/]+$/.test(request))).toHaveLength(reloads);
  expect(shopper.requests.filter((request) => request.endsWith('/events'))).toHaveLength(1 + reloads);
}

it('takes a shopper from the countdown to the start, the claim, the hold and a paid order', async () => {
  const sale = await createTestSale(api, { units: 3, holdSeconds: 120, startsAt: new Date(Date.now() + 5_000).toISOString() });
  const shopper = await openSale(sale.id);
  const { page } = shopper;
  await page.getByRole('heading', { name: 'XPhone 15' }).waitFor();
  await signIn(page, 'alice');

  const startsIn = page.getByRole('timer', { name: 'The sale starts in' });
  await startsIn.waitFor();
  expect(await startsIn.textContent()).toMatch(/^0:0[1-5]$/);
  await expectFitsThePhone(page);
  await saveScreenshot(page, 'checkout-1-countdown');

  // The claim button appears when the countdown ends, without a reload.
  await page.getByRole('button', { name: 'Reserve one' }).waitFor({ timeout: 30_000 });
  await claim(page);
  const holdLeft = page.getByRole('timer', { name: 'Reserved for you' });
  expect(await holdLeft.textContent()).toMatch(/^(2:00|1:[0-5]\d)$/);
  await expectFitsThePhone(page);
  await saveScreenshot(page, 'checkout-2-hold');

  await page.getByRole('radio', { name: 'Visa test card (succeeds)' }).check();
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.getByRole('heading', { name: 'Paid: it is yours' }).waitFor({ timeout: 30_000 });
  await saveScreenshot(page, 'checkout-3-paid');

  expect(await reservationOf(shopper)).toMatchObject({ status: 'paid', userId: 'alice', payment: { status: 'captured' } });
  expectNoPolling(shopper);
  expectNoPageErrors(shopper);
});

it('tells a shopper whose hold ran out that it expired', async () => {
  const sale = await createTestSale(api, { units: 2, holdSeconds: 5 });
  const shopper = await openSale(sale.id);
  const { page } = shopper;
  await signIn(page, 'bob');
  await claim(page);
  // A reload keeps the shopper signed in and back on their hold (the tab's sessionStorage).
  await page.reload();
  await page
    .getByRole('heading', { name: 'Reserved for you' })
    .or(page.getByRole('heading', { name: 'Your hold expired' }))
    .waitFor();
  await page.getByRole('heading', { name: 'Your hold expired' }).waitFor({ timeout: 30_000 });
  await expectFitsThePhone(page);
  await saveScreenshot(page, 'checkout-hold-expired');

  expect(await reservationOf(shopper)).toMatchObject({ status: 'expired', userId: 'bob' });
  expectNoPolling(shopper, 1);
  expectNoPageErrors(shopper);
});

it('tells a shopper whose card was declined, and the unit goes back on sale', async () => {
  const sale = await createTestSale(api, { units: 1, holdSeconds: 120 });
  const shopper = await openSale(sale.id);
  const { page } = shopper;
  await signIn(page, 'carol');
  await claim(page);
  await page.getByRole('radio', { name: 'Test card that is declined' }).check();
  await page.getByRole('button', { name: /^Pay / }).click();
  await page.getByRole('heading', { name: 'Your card was declined' }).waitFor({ timeout: 30_000 });
  expect(await page.getByRole('status').filter({ hasText: 'card_declined' }).count()).toBe(1);
  await saveScreenshot(page, 'checkout-declined');

  expect(await reservationOf(shopper)).toMatchObject({ status: 'payment_failed', payment: { status: 'failed' } });
  expectNoPolling(shopper);
  expectNoPageErrors(shopper);
  const after = await api.get<{ available: number }>(`/v1/sales/${sale.id}`);
  expect(after.body.available).toBe(1);
});

it('queues a shopper in the waiting room (proof of work in the browser, live place) and lets them claim once admitted', async () => {
  const sale = await createTestSale(api, {
    sku: 'XPHONE-15-PRO',
    name: 'XPhone 15 Pro',
    units: 2,
    priceCents: 129_900,
    holdSeconds: 120,
    startsAt: new Date(Date.now() + 4_000).toISOString(),
    waitingRoom: { admitPerSecond: 2, powDifficulty: 10 },
  });
  const shopper = await openSale(sale.id);
  const { page } = shopper;
  await signIn(page, 'dave');
  await page.getByRole('heading', { name: 'Waiting room' }).waitFor();
  // Joined before the start: in the pre-queue, whose order is drawn at the start.
  await page.getByRole('status').filter({ hasText: 'You are in the queue' }).waitFor({ timeout: 30_000 });
  await expectFitsThePhone(page);
  await saveScreenshot(page, 'checkout-waiting-room');

  await page.getByRole('button', { name: 'Reserve one' }).waitFor({ timeout: 30_000 });
  await claim(page);
  expect(await reservationOf(shopper)).toMatchObject({ status: 'held', userId: 'dave' });
  // The proof of work was accepted (the join) and the place came over one stream, never polled.
  expect(shopper.requests).toContain(`POST /v1/sales/${sale.id}/queue`);
  expect(shopper.requests.filter((request) => request.endsWith('/queue/me'))).toEqual([]);
  expect(shopper.requests.filter((request) => request.endsWith('/queue/me/events'))).toHaveLength(1);
  expectNoPageErrors(shopper);
});
