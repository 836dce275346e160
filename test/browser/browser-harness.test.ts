import { existsSync, statSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { launchBrowser, phoneContext, PHONE_VIEWPORT, saveScreenshot } from '../helpers/browser';

// The harness itself: Debian's chromium starts headless, pages get the phone viewport, and a
// screenshot lands in test-artifacts/. The pages' own tests are beside this file.
describe('browser harness', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('opens a phone-sized page, finds controls by accessible name and saves a screenshot', async () => {
    const context = await phoneContext(browser);
    const page = await context.newPage();
    // As on a real phone, a page without a viewport meta tag is laid out 980 px wide.
    await page.setContent(
      '<meta name="viewport" content="width=device-width, initial-scale=1">' +
        '<main><label>Shopper <input name="s"></label><button aria-label="Sign in">→</button></main>',
    );
    await page.getByRole('textbox', { name: 'Shopper' }).fill('alice');
    await expect(page.getByRole('button', { name: 'Sign in' }).count()).resolves.toBe(1);
    expect(await page.evaluate('[innerWidth, innerHeight]')).toEqual([PHONE_VIEWPORT.width, PHONE_VIEWPORT.height]);
    const file = await saveScreenshot(page, 'browser-harness');
    expect(existsSync(file) && statSync(file).size).toBeGreaterThan(0);
    await context.close();
  });
});
