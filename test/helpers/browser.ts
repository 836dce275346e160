import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CONDITION_DEADLINE_FLOOR_MS } from './sales';

/*
 * Browser tests drive Debian's chromium through playwright-core: Playwright's own browser
 * download cannot run here (no internet but the package registries), and .ci/run installs the
 * distribution's package on a fresh machine. CHROMIUM_PATH points the tests at another binary.
 */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] as const;

/** A phone-sized viewport (an iPhone 12-15's CSS pixels): every page must work on it. */
export const PHONE_VIEWPORT = { width: 390, height: 844 } as const;

/** Screenshots of the browser tests: a build artifact, gitignored. */
export const ARTIFACTS_DIR = path.resolve(__dirname, '..', '..', 'test-artifacts');

/**
 * Builds the pages as the sources are now (scripts/build-web.js, as `npm run build:web`):
 * postinstall built them once, and a test run must not use stale ones.
 */
export function buildWebPages(): void {
  const build = spawnSync(process.execPath, ['scripts/build-web.js'], {
    cwd: path.resolve(__dirname, '..', '..'),
    encoding: 'utf8',
  });
  if (build.status !== 0) throw new Error(`npm run build:web failed:\n${build.stdout}${build.stderr}`);
}

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH || DEFAULT_CHROMIUM_PATH;
}

export function launchBrowser(env: NodeJS.ProcessEnv = process.env): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(env), headless: true, args: [...CHROMIUM_FLAGS] });
}

export interface PhoneContextOptions {
  /** Origin the page lives on; relative `page.goto('/…')` resolves against it. */
  baseURL?: string;
}

/** A fresh browser context (own cookies and storage) with a phone-sized, touch-enabled viewport. */
export async function phoneContext(browser: Browser, options: PhoneContextOptions = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { ...PHONE_VIEWPORT },
    deviceScaleFactor: 1,
    isMobile: true,
    hasTouch: true,
    ...(options.baseURL && { baseURL: options.baseURL }),
  });
  // As CONDITION_DEADLINE_FLOOR_MS (test/helpers/sales.ts): waiting for an element bounds a hang.
  context.setDefaultTimeout(CONDITION_DEADLINE_FLOOR_MS);
  return context;
}

/**
 * Saves a full-page PNG as `test-artifacts/<name>.png` and returns its path. Names are made
 * file-safe so a test title can be passed as is.
 */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name.replace(/[^\w.-]+/g, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/**
 * Collects what the page printed to its console and any uncaught error, so that a failing
 * browser test can show them and a page error fails the test that asserts on it.
 */
export function recordPageErrors(page: Page): { errors: string[]; console: string[] } {
  const record = { errors: [] as string[], console: [] as string[] };
  page.on('pageerror', (error) => record.errors.push(error.message));
  page.on('console', (message) => record.console.push(`${message.type()}: ${message.text()}`));
  return record;
}
