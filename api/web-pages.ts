import { existsSync } from 'node:fs';
import path from 'node:path';
import express, { Router, type Response } from 'express';
import type { Logger } from 'pino';
import { ErrorCode } from '../domain/errors';
import { Problem } from './problem';
import { requireUuid } from './schemas';
import { pageSecurityHeaders } from './security-headers';

/** Where `npm run build:web` (scripts/build-web.js, also run by postinstall) writes the pages. */
export const WEB_DIST = path.resolve(__dirname, '..', 'web', 'dist');

/**
 * The shopper pages: `/` (open a sale), `/sales/:saleId` (the checkout) and `/orders` (the
 * shopper's order history), their modules and stylesheet under `/assets/`. Plain files built by scripts/build-web.js; every piece of data comes
 * from the JSON API on the same origin. Pages and assets carry the pages' CSP (self only).
 */
export function webPagesRouter(options: { distDir?: string; logger: Logger }): Router {
  const distDir = options.distDir ?? WEB_DIST;
  const built = existsSync(path.join(distDir, 'sale.html'));
  if (!built) options.logger.warn({ distDir }, 'the web pages are not built (npm run build:web); / and /sales/* answer 503');
  const router = Router();
  const headers = pageSecurityHeaders();
  const sendPage = (res: Response, file: string) => {
    if (!built) throw new Problem(503, ErrorCode.ServiceUnavailable, 'the web pages are not built: run npm run build:web');
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(path.join(distDir, file));
  };

  router.use('/assets', headers, express.static(path.join(distDir, 'assets'), { index: false, redirect: false }));
  router.get('/', headers, (_req, res) => sendPage(res, 'index.html'));
  router.get('/sales/:saleId', headers, (req, res) => {
    requireUuid(req.params.saleId, 'sale');
    sendPage(res, 'sale.html');
  });
  router.get('/orders', headers, (_req, res) => sendPage(res, 'orders.html'));
  // The operators' dashboard; the page asks for the admin token, its data comes from the admin stream.
  router.get('/admin/sales/:saleId', headers, (req, res) => {
    requireUuid(req.params.saleId, 'sale');
    sendPage(res, 'dashboard.html');
  });
  return router;
}
