/*
 * The "My orders" page in Debian's chromium on a phone-sized screen, against real processes (API
 * with the development sign-in, worker, payment simulator): a shopper with a paid, an expired and
 * nine cancelled reservations in three sales reaches it from a sale page and sees them newest
 * first, ten and then, after "Load more", the last; a shopper without orders sees the empty state;
 * an API failure shows the error state and "Try again" recovers. Screenshots go to test-artifacts/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, type AppUnderTest } from '../helpers/app-under-test';
import { buildWebPages, launchBrowser, phoneContext, PHONE_VIEWPORT, recordPageErrors, saveScreenshot } from '../helpers/browser';
import { waitUntilSettled } from '../helpers/payments';
import { createTestSale } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let browser: Browser;
const contexts: BrowserContext[] = [];
const run = Date.now().toString(36);

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

async function newPage(): Promise<{ page: Page; errors: ReturnType<typeof recordPageErrors> }> {
  const context = await phoneContext(browser, { baseURL: app.apiUrl });
  contexts.push(context);
  const page = await context.newPage();
  return { page, errors: recordPageErrors(page) };
}

async function signIn(page: Page, shopperId: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Shopper name' }).fill(shopperId);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${shopperId}`).waitFor();
}

const orderList = (page: Page) => page.getByRole('list', { name: 'Your reservations, newest first' });

/** Each order as shown: its reservation id, sale name (the heading) and status. */
async function shownOrders(page: Page): Promise<Array<{ id: string; sale: string; status: string }>> {
  return orderList(page)
    .getByRole('listitem')
    .evaluateAll((items) =>
      items.map((item) => ({
        id: item.getAttribute('data-reservation-id') ?? '',
        sale: item.querySelector('h3')?.textContent ?? '',
        status: item.querySelector('.order-status')?.textContent ?? '',
      })),
    );
}

async function claim(saleId: string, token: string): Promise<string> {
  const answer = await api.post<{ id: string }>(`/v1/sales/${saleId}/reservations`, { token });
  expect(answer.status).toBe(201);
  return answer.body.id;
}

it('shows a shopper their paid, expired and cancelled orders newest first, and loads more', async () => {
  const shopperId = `orders-${run}`;
  const token = await shopperToken(shopperId);
  const phone = await createTestSale(api, { name: 'Orders Phone', units: 2, holdSeconds: 120 });
  const watch = await createTestSale(api, { name: 'Orders Watch', units: 2, holdSeconds: 2 });
  const tablet = await createTestSale(api, { name: 'Orders Tablet', units: 2, holdSeconds: 120 });

  const paid = await claim(phone.id, token);
  expect((await api.post(`/v1/reservations/${paid}/payment`, { token, body: { paymentMethod: 'tok_visa' } })).status).toBe(202);
  expect((await waitUntilSettled(api, paid, token)).status).toBe('paid');
  const expired = await claim(watch.id, token);
  expect((await waitUntilSettled(api, expired, token)).status).toBe('expired');
  const cancelled: string[] = [];
  for (let i = 0; i < 9; i++) {
    cancelled.push(await claim(tablet.id, token));
    expect((await api.post(`/v1/reservations/${cancelled.at(-1)}/cancel`, { token })).status).toBe(200);
  }
  const newestFirst = [
    ...cancelled.reverse().map((id) => ({ id, sale: 'Orders Tablet', status: 'Cancelled' })),
    { id: expired, sale: 'Orders Watch', status: 'Expired' },
    { id: paid, sale: 'Orders Phone', status: 'Paid' },
  ];

  // Signed in on a sale page, the shopper follows the navigation; the tab's session carries over.
  const { page, errors } = await newPage();
  await page.goto(`/sales/${phone.id}`);
  await signIn(page, shopperId);
  await page.getByRole('navigation', { name: 'Site' }).getByRole('link', { name: 'My orders' }).click();
  await page.getByRole('heading', { name: 'My orders', level: 1 }).waitFor();
  await page.getByText(`Signed in as ${shopperId}`).waitFor();

  await orderList(page).getByRole('listitem').nth(9).waitFor();
  expect(await shownOrders(page)).toEqual(newestFirst.slice(0, 10));
  expect(await page.getByRole('link', { name: 'Orders Tablet' }).first().getAttribute('href')).toBe(`/sales/${tablet.id}`);
  expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE_VIEWPORT.width);
  await saveScreenshot(page, 'my-orders-1-first-page');

  await page.getByRole('button', { name: 'Load more' }).click();
  await orderList(page).getByRole('listitem').nth(10).waitFor();
  expect(await shownOrders(page)).toEqual(newestFirst);
  await page.getByRole('button', { name: 'Load more' }).waitFor({ state: 'hidden' });
  const paidItem = orderList(page).getByRole('listitem').nth(10);
  expect(await paidItem.textContent()).toMatch(/Paid.*€999\.00|Paid.*999\.00\s?€/);
  expect(await paidItem.locator('time').nth(1).getAttribute('datetime')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  await saveScreenshot(page, 'my-orders-2-all');
  expect(errors.errors).toEqual([]);
  expect(errors.console.filter((line) => line.startsWith('error') || line.startsWith('warning'))).toEqual([]);
});

it('shows a shopper without orders the empty state', async () => {
  const { page, errors } = await newPage();
  await page.goto('/orders');
  await signIn(page, `orders-nobody-${run}`);
  await page.getByText('No orders yet.').waitFor();
  expect(await orderList(page).getByRole('listitem').count()).toBe(0);
  expect(await page.getByRole('button', { name: 'Load more' }).isVisible()).toBe(false);
  expect(errors.errors).toEqual([]);
});

it('shows the error state when the history cannot be loaded, and Try again recovers', async () => {
  const { page } = await newPage();
  await page.route('**/v1/me/reservations*', (route) =>
    route.fulfill({
      status: 503,
      contentType: 'application/problem+json',
      body: JSON.stringify({
        type: 'https://flash-sale.example/problems/service-unavailable',
        title: 'A dependency is unavailable; try again shortly',
        status: 503,
        detail: 'a dependency is unavailable; try again shortly',
      }),
    }),
  );
  await page.goto('/orders');
  await signIn(page, `orders-unlucky-${run}`);
  await page.getByRole('alert').filter({ hasText: 'Your orders could not be loaded' }).waitFor();
  expect(await page.getByText('No orders yet.').isVisible()).toBe(false);
  await saveScreenshot(page, 'my-orders-error');

  await page.unroute('**/v1/me/reservations*');
  await page.getByRole('button', { name: 'Try again' }).click();
  await page.getByText('No orders yet.').waitFor();
  expect(await page.getByRole('button', { name: 'Try again' }).isVisible()).toBe(false);
});
