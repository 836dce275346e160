#!/usr/bin/env node
/*
 * Builds the shopper pages the API serves: bundles web/src/*.ts (one module per page) with
 * esbuild into web/dist/assets/, and copies the HTML pages and the stylesheet beside them.
 * Run by `npm install` (postinstall) and `npm run build:web`; web/dist/ is not committed.
 * Without web/src (a container's dependency stage, which copies only package files) it does
 * nothing; the Dockerfile runs it in its build stage instead.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const web = path.join(root, 'web');
const src = path.join(web, 'src');
const dist = path.join(web, 'dist');
const assets = path.join(dist, 'assets');
/** One module per page; each is a bundle of its own (the shared modules are small). */
const ENTRY_POINTS = ['checkout.ts', 'home.ts', 'dashboard.ts', 'orders.ts'];

function say(message) {
  process.stdout.write(`[build-web] ${message}\n`);
}

async function main() {
  if (!fs.existsSync(src)) {
    say('no web/src here; nothing to build');
    return;
  }
  const esbuild = require('esbuild');
  fs.rmSync(dist, { recursive: true, force: true });
  fs.mkdirSync(assets, { recursive: true });
  const started = Date.now();
  await esbuild.build({
    entryPoints: ENTRY_POINTS.map((entry) => path.join(src, entry)),
    outdir: assets,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    charset: 'utf8',
    logLevel: 'warning',
  });
  for (const page of fs.readdirSync(path.join(web, 'pages'))) {
    fs.copyFileSync(path.join(web, 'pages', page), path.join(dist, page));
  }
  for (const asset of ['styles.css', 'dashboard.css', 'favicon.svg'])
    fs.copyFileSync(path.join(web, asset), path.join(assets, asset));
  say(`web/dist built in ${Date.now() - started} ms`);
}

main().catch((error) => {
  console.error('[build-web] failed:', error);
  process.exit(1);
});
