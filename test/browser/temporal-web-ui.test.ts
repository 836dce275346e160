/*
 * Support staff in the Temporal Web UI (the dev server's own or, with TEMPORAL_SERVER=cluster, the
 * UI server beside the real server; both started by scripts/stack/infra.ts): the list filtered by `SaleId` and `ReservationStatus` shows the held
 * reservation and not the cancelled one, and the workflow's page shows its human summary
 * ("XPhone 15 · <shopper> · unit <n>"). Every payload is encrypted, the summary too: the UI shows
 * it because it decodes through the codec server it is configured with (codec-server/, started by
 * scripts/stack/infra.ts). Screenshots: test-artifacts/temporal-web-ui-*.png.
 */
import { Connection } from '@temporalio/client';
import type { Browser } from 'playwright-core';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import { startAppUnderTest, TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { launchBrowser, recordPageErrors, saveScreenshot } from '../helpers/browser';
import { testInfra, testTemporalUiUrl } from '../helpers/infra-env';
import { testCodecUrl, testTemporalClient } from '../helpers/temporal-client';
import { createTestSale, waitFor } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let browser: Browser;
let connection: Connection;

beforeAll(async () => {
  [app, browser, connection] = await Promise.all([
    startAppUnderTest(),
    launchBrowser(),
    Connection.connect({ address: testInfra().temporalAddress }),
  ]);
  api = apiClient(app.apiUrl, 8);
});

afterAll(async () => {
  await browser?.close();
  await connection?.close();
  await api?.close();
  await app?.stop();
});

test('the Web UI filtered by SaleId and ReservationStatus finds the held reservation with its summary', async () => {
  const ui = testTemporalUiUrl();
  if (!ui) throw new Error('the test run has no Temporal Web UI (scripts/stack/infra.ts starts one)');
  const sale = await createTestSale(api, { units: 3 });
  const shopper = `alice-${sale.id.slice(0, 8)}`;
  const [alice, bob] = await Promise.all([shopperToken(shopper), shopperToken(`bob-${sale.id.slice(0, 8)}`)]);
  const held = await api.post<{ id: string; unitId: number }>(`/v1/sales/${sale.id}/reservations`, { token: alice });
  const gone = await api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token: bob });
  expect([held.status, gone.status]).toEqual([201, 201]);
  expect((await api.post(`/v1/reservations/${gone.body.id}/cancel`, { token: TEST_SECRETS.ADMIN_TOKEN })).status).toBe(200);

  const query = `SaleId="${sale.id}" AND ReservationStatus="held"`;
  const client = testTemporalClient(connection);
  // Visibility follows the workflows a moment later; the UI reads the same index.
  await waitFor(
    async () => {
      const ids: string[] = [];
      for await (const workflow of client.workflow.list({ query })) ids.push(workflow.workflowId);
      return ids;
    },
    (ids) => ids.length === 1,
    20_000,
    'the held reservation in visibility',
  );

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  recordPageErrors(page);
  // Every request the browser sends the codec server (from the page or any worker of it).
  const codecCalls: Array<{ method: string; path: string; status: number }> = [];
  context.on('requestfinished', (request) => {
    const url = new URL(request.url());
    if (url.origin !== testCodecUrl()) return;
    void request.response().then((response) =>
      codecCalls.push({
        method: request.method(),
        path: url.pathname.replace(/^\/[^/]+\//, '/<token>/'),
        status: response?.status() ?? 0,
      }),
    );
  });
  await page.goto(`${ui}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
  const heldId = reservationWorkflowId(held.body.id);
  const row = page.getByRole('link', { name: heldId });
  await row.first().waitFor({ timeout: 30_000 });
  expect(await page.getByRole('link', { name: reservationWorkflowId(gone.body.id) }).count()).toBe(0);
  await saveScreenshot(page, 'temporal-web-ui-list');

  await row.first().click();
  const summary = `XPhone 15 · ${shopper} · unit ${held.body.unitId}`;
  // UI 2.54 shows the static summary and details under the workflow's "User Metadata" tab.
  await page.getByText('User Metadata', { exact: true }).first().click();
  try {
    // The UI renders the summary's Markdown in a sandboxed iframe, so every frame's text is read.
    await waitFor(
      async () => {
        const texts = await Promise.all(
          page.frames().map((frame) =>
            frame
              .locator('body')
              .innerText()
              .catch(() => ''),
          ),
        );
        return texts.some((text) => text.includes(summary));
      },
      (found) => found,
      30_000,
      `the summary "${summary}" on the workflow's page`,
    );
  } finally {
    await saveScreenshot(page, 'temporal-web-ui-workflow');
  }
  // The summary reached the page through the codec endpoint, and the endpoint answered every call.
  console.log(`the browser's calls to the codec server: ${JSON.stringify(codecCalls)}`);
  const decodes = codecCalls.filter((call) => call.method === 'POST' && call.path === '/<token>/decode');
  expect(decodes.length).toBeGreaterThan(0);
  expect(decodes.filter((call) => call.status !== 200)).toEqual([]);
  await context.close();
});
