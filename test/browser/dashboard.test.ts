/*
 * The operators' dashboard (/admin/sales/:saleId) in Debian's chromium against real processes:
 * the admin token is entered once, then the counts, the chart and the payments move while a crowd
 * of 50 shoppers claims over HTTP and some of them pay. Controls are found by accessible name.
 * Screenshot: test-artifacts/dashboard-during-sale.png.
 */
import type { Browser, Page } from 'playwright-core';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { buildWebPages, launchBrowser, recordPageErrors, saveScreenshot } from '../helpers/browser';
import { createTestSale } from '../helpers/sales';

const UI = 'http://127.0.0.1:18233';

let app: AppUnderTest;
let api: ApiClient;
let browser: Browser;

beforeAll(async () => {
  buildWebPages();
  [app, browser] = await Promise.all([
    startAppUnderTest({ apiEnv: { TEMPORAL_UI_URL: UI, DASHBOARD_CHECK_EVERY_MS: '2000' } }),
    launchBrowser(),
  ]);
  api = apiClient(app.apiUrl, 64);
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await app?.stop();
});

const count = async (page: Page, id: string) => Number(await page.locator(`#${id}`).textContent());

async function waitForCount(page: Page, id: string, expected: number): Promise<void> {
  await page
    .locator(`#${id}`)
    .filter({ hasText: new RegExp(`^${expected}$`) })
    .waitFor({ timeout: 30_000 });
}

test('the dashboard’s counts move as a crowd buys', async () => {
  const sale = await createTestSale(api, { units: 80 });
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, baseURL: app.apiUrl });
  const page = await context.newPage();
  const errors = recordPageErrors(page);
  await page.goto(`/admin/sales/${sale.id}`);
  await page.getByRole('textbox', { name: 'Admin token' }).fill(TEST_SECRETS.ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
  await waitForCount(page, 'units-available', 80);
  expect(await count(page, 'units-held')).toBe(0);
  expect(await page.getByRole('link', { name: 'All reservations of this sale' }).getAttribute('href')).toBe(
    `${UI}/namespaces/default/workflows?query=${encodeURIComponent(`SaleId="${sale.id}"`)}`,
  );

  const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => shopperToken(`crowd-${sale.id}-${i}`)));
  const claims = await Promise.all(
    tokens.map((token) => api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token })),
  );
  expect(claims.every((c) => c.status === 201)).toBe(true);
  await waitForCount(page, 'units-held', 50);
  expect(await count(page, 'units-available')).toBe(30);
  // Claims answered by this API appear per outcome.
  await page.getByText('reserved', { exact: true }).waitFor({ timeout: 30_000 });

  const payers = claims.slice(0, 20);
  const paid = await Promise.all(
    payers.map((c, i) =>
      api.post(`/v1/reservations/${c.body.id}/payment`, { token: tokens[i], body: { paymentMethod: 'tok_visa' } }),
    ),
  );
  expect(paid.every((p) => p.status === 202)).toBe(true);
  await waitForCount(page, 'units-sold', 20);
  await waitForCount(page, 'units-held', 30);
  await page
    .locator('#payments div')
    .filter({ hasText: 'captured' })
    .locator('dd')
    .filter({ hasText: /^20$/ })
    .waitFor({ timeout: 30_000 });
  await page.getByText(/All invariants hold/).waitFor({ timeout: 30_000 });
  // The chart has a line per series, drawn over more than one reading.
  const points = await page.locator('#units-chart polyline[data-series="sold"]').getAttribute('points');
  expect(points!.split(' ').length).toBeGreaterThan(1);
  await saveScreenshot(page, 'dashboard-during-sale');
  expect(errors.errors).toEqual([]);

  // Reloading keeps the token for the tab (sessionStorage): no second prompt.
  await page.reload();
  await waitForCount(page, 'units-sold', 20);
  expect(await page.getByRole('textbox', { name: 'Admin token' }).isVisible()).toBe(false);
  await context.close();
});
