import type { RequestListener } from 'node:http';
import type { Client } from '@temporalio/client';
import express, { type Express, type Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { PaymentGateway } from '../payments/gateway';
import { createAuth, type AuthConfig } from './auth';
import type { Metrics } from './metrics';
import { methodNotAllowed } from './method-not-allowed';
import { createErrorHandler, notFoundHandler } from './problem';
import { ipRateLimit, sharedShopperRateLimit, shopperRateLimit, type RateLimitConfig } from './rate-limit';
import { requestLogging } from './request-log';
import { corsPolicy } from './cors';
import { soldOutFastPath } from './sold-out-fast-path';
import { queueMeFastPath } from './queue-me-fast-path';
import { joinFastPath } from './join-fast-path';
import { JSON_BODY_LIMIT_BYTES } from './schemas';
import { crowdShedding, NO_CROWD_SHEDDING, type CrowdSheddingConfig } from './crowd-shedding';
import { healthRouter } from './routes/health';
import { adminRouter } from './routes/admin';
import { paymentsRouter } from './routes/payments';
import { reservationsRouter } from './routes/reservations';
import { webhooksRouter } from './routes/webhooks';
import { salesRouter } from './routes/sales';
import { waitingRoomRouter } from './routes/waiting-room';
import { createWaitingRoom } from './services/waiting-room';
import { waitlistRouter } from './routes/waitlist';
import { myOrdersRouter } from './routes/my-orders';
import { securityHeaders } from './security-headers';
import { createReservationWorkflows } from '../clients/reservation-workflows';
import { createSaleCache } from './services/sale-cache';
import type { SoldOutRegistry } from './services/sold-out-registry';
import type { ChangeFeed } from './services/change-feed';
import { queueEventsRouter } from './routes/queue-events';
import { reservationEventsRouter } from './routes/reservation-events';
import { saleEventsRouter } from './routes/sale-events';
import { adminSalesRouter } from './routes/admin-sales';
import { createInvariantVerdicts } from './services/invariant-verdicts';
import { checkSaleInvariants } from '../invariants/check-sale-invariants';
import { createSaleFeed } from './services/sale-feed';
import { webPagesRouter } from './web-pages';
import type { CrashPointHook } from '../domain/crash-points';
import { createStreamLimits, type StreamLimitsConfig } from './stream-limits';
import { createWaitlistFeed } from './services/waitlist-feed';
import { batchedReader } from './services/batched-reads';
import { findReservations } from '../db/queries/find-reservations';
import { myDataRouter } from './routes/my-data';
import { adminShoppersRouter } from './routes/admin-shoppers';
import { createShopperWorkflows } from '../clients/shopper-workflows';

export interface AppDeps {
  /** The waiting crowd's work and everything else that is not the checkout's (PG_POOL_MAX). */
  pool: Pool;
  /**
   * Admitted shoppers' claims, payments, reads of their reservations and the payment provider's
   * webhooks (PG_CHECKOUT_POOL_MAX): connections the crowd's work on `pool` can never take.
   */
  checkoutPool: Pool;
  temporal: Client;
  taskQueue: string;
  auth: AuthConfig;
  logger: Logger;
  metrics: Metrics;
  maxStripes: number;
  webhookSecret: string;
  /** HMAC key of waiting-room challenges and queue tickets. */
  queueSecret: string;
  /** The export and the erasure (api/routes/my-data.ts, api/routes/admin-shoppers.ts). */
  shopperData: {
    /** ERASURE_SECRET: the key of erased shoppers' pseudonyms (api/services/shopper-pseudonym.ts). */
    erasureSecret: string;
    /** NOTIFY_EMAIL_DOMAIN: the export names the address the worker mails. */
    notifyEmailDomain: string;
  };
  soldOut: SoldOutRegistry;
  /** Tells the event streams (reservations, queue places) when what they show moved. */
  changeFeed: ChangeFeed;
  /** The payment providers' ledgers, read by the invariant checker route. */
  gateways: PaymentGateway[];
  rateLimits?: RateLimitConfig;
  /** When the crowd's routes are shed before Express (api/crowd-shedding.ts); none = never. */
  crowdShedding?: CrowdSheddingConfig;
  /** Caps on open Server-Sent Events streams (api/stream-limits.ts); none = no caps. */
  streamLimits?: StreamLimitsConfig;
  /** Express `trust proxy` hop count; 0 uses the socket's address as the client IP. */
  trustProxy?: number;
  /** Browser origins allowed by CORS; none (the default) leaves CORS off. */
  corsOrigins?: readonly string[];
  /** Test harness only (test/helpers/entries/); production passes none. */
  onCrashPoint?: CrashPointHook;
  /**
   * Routes only the development launcher and the test harness add (the development sign-in,
   * scripts/stack/dev-sign-in.ts); production passes none.
   */
  extraRoutes?: readonly Router[];
  /** Where the built pages are (default web/dist). */
  webDistDir?: string;
  /** The Temporal Web UI's base address (TEMPORAL_UI_URL) for the dashboard's links; none = no links. */
  temporalUiUrl?: string;
  /** Namespace of the Web UI links (TEMPORAL_NAMESPACE). */
  temporalNamespace?: string;
  /** Least time between two invariant checks of a sale for the dashboard (DASHBOARD_CHECK_EVERY_MS). */
  dashboardCheckEveryMs?: number;
}

const NO_RATE_LIMITS: RateLimitConfig = {
  perIp: { limit: 0, windowMs: 1 },
  perShopper: { limit: 0, windowMs: 1 },
  queuePerShopper: { limit: 0, windowMs: 1 },
};
/** The waiting-room routes that hand out or spend proof-of-work challenges: their own, tighter budget. */
const QUEUE_LIMITED_ROUTES = ['/v1/sales/:saleId/challenge', '/v1/sales/:saleId/queue'];
/** The routes a shopper's budget covers (claims, payments, waitlist joins); the same patterns the routers use. */
const SHOPPER_LIMITED_ROUTES = [
  '/v1/sales/:saleId/reservations',
  '/v1/reservations/:reservationId/payment',
  '/v1/sales/:saleId/waitlist',
];
const ORDER_HISTORY_ROUTE = '/v1/me/reservations';

/**
 * The Express app, and the request listener to serve: the crowd's shedding (api/crowd-shedding.ts),
 * then the sold-out, queue/me and join fast paths, in front of the app.
 */
export function createApp(deps: AppDeps): { app: Express; listener: RequestListener } {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.trustProxy) app.set('trust proxy', deps.trustProxy);
  const rateLimits = deps.rateLimits ?? NO_RATE_LIMITS;

  app.use(requestLogging(deps.logger));
  app.use(deps.metrics.observeRequests);
  app.use(securityHeaders());
  const cors = corsPolicy(deps.corsOrigins ?? []);
  if (cors) app.use(cors.middleware);
  app.use(ipRateLimit(rateLimits.perIp, deps.logger));
  app.use(methodNotAllowed(app));

  const auth = createAuth(deps.auth);
  // The shopper guard runs here and again in the router: a token is verified before its subject is counted.
  // The sold-out fast path (below) counts in the same per-shopper budget.
  const shopperLimit = sharedShopperRateLimit(rateLimits.perShopper, deps.logger);
  app.post(SHOPPER_LIMITED_ROUTES, auth.shopper, shopperLimit.middleware);
  // The order history: the same per-shopper rule, counted apart, so reading it never spends the claim budget.
  app.get(ORDER_HISTORY_ROUTE, auth.shopper, shopperRateLimit(rateLimits.perShopper, deps.logger));
  // Each stream route's own guard first, so a caller without a valid token is answered 401 and
  // takes no slot; the routers run the guard again (a verified token is cached).
  const streams = createStreamLimits(deps.streamLimits ?? { total: 0, perIp: 0, perShopper: 0 }, {
    refused: (limit) => deps.metrics.streamsRefused.inc({ limit }),
    counted: (open) => deps.metrics.streamsOpen.set(open),
  });
  app.get('/v1/reservations/:reservationId/events', auth.shopperOrAdmin, streams.admit);
  app.get(['/v1/sales/:saleId/queue/me/events', '/v1/sales/:saleId/waitlist/me/events'], auth.shopper, streams.admit);
  app.get('/v1/sales/:saleId/events', streams.admit);
  app.get('/v1/admin/sales/:saleId/events', auth.admin, streams.admit);
  // The join fast path (below) counts in the same queue budget.
  const queueLimit = sharedShopperRateLimit(rateLimits.queuePerShopper ?? NO_RATE_LIMITS.queuePerShopper!, deps.logger);
  app.get(QUEUE_LIMITED_ROUTES[0]!, auth.shopper, queueLimit.middleware);
  app.post(QUEUE_LIMITED_ROUTES[1]!, auth.shopper, queueLimit.middleware);
  const waitingRoom = createWaitingRoom({
    pool: deps.pool,
    checkoutPool: deps.checkoutPool,
    queueSecret: deps.queueSecret,
    onPlaceRead: (kind) => deps.metrics.queuePlaceReads.inc({ kind }),
    logger: deps.logger,
  });
  const sales = createSaleCache(deps.pool);
  const workflows = createReservationWorkflows(deps.temporal, deps.taskQueue);
  const saleFeed = createSaleFeed({
    pool: deps.pool,
    logger: deps.logger,
    metrics: { polls: deps.metrics.saleFeedPolls, subscribers: deps.metrics.saleFeedSubscribers },
  });
  deps.changeFeed.onStop(() => saleFeed.stop());
  const waitlistFeed = createWaitlistFeed({
    pool: deps.pool,
    changeFeed: deps.changeFeed,
    logger: deps.logger,
    onRead: () => deps.metrics.waitlistFeedReads.inc(),
  });
  const readReservation = batchedReader(
    async (ids) => new Map((await findReservations(deps.checkoutPool, ids)).map((row) => [row.id, row])),
  );

  // Before the JSON parser: webhook signatures are verified over the raw body.
  app.use(webhooksRouter({ pool: deps.checkoutPool, workflows, webhookSecret: deps.webhookSecret, logger: deps.logger }));
  app.use(express.json({ limit: JSON_BODY_LIMIT_BYTES, strict: true }));

  app.use(healthRouter({ pool: deps.pool, temporal: deps.temporal, metrics: deps.metrics, taskQueue: deps.taskQueue }));
  app.use(salesRouter({ pool: deps.pool, sales, auth, maxStripes: deps.maxStripes }));
  app.use(
    reservationsRouter({
      pool: deps.checkoutPool,
      sales,
      workflows,
      auth,
      metrics: deps.metrics,
      soldOut: deps.soldOut,
      waitingRoom,
      onCrashPoint: deps.onCrashPoint,
      saleFeed,
    }),
  );
  app.use(waitingRoomRouter({ pool: deps.pool, sales, auth, waitingRoom }));
  app.use(queueEventsRouter({ sales, auth, waitingRoom, feed: deps.changeFeed, logger: deps.logger }));
  app.use(waitlistRouter({ pool: deps.pool, sales, auth, waitlistFeed, logger: deps.logger }));
  app.use(paymentsRouter({ pool: deps.checkoutPool, workflows, auth }));
  app.use(myOrdersRouter({ pool: deps.pool, auth }));
  app.use(
    reservationEventsRouter({ pool: deps.checkoutPool, auth, feed: deps.changeFeed, readReservation, logger: deps.logger }),
  );
  app.use(saleEventsRouter({ sales, saleFeed, changeFeed: deps.changeFeed, logger: deps.logger }));
  app.use(
    adminSalesRouter({
      pool: deps.pool,
      sales,
      saleFeed,
      verdicts: createInvariantVerdicts({
        check: (saleId) => checkSaleInvariants({ pool: deps.pool, temporal: deps.temporal, gateways: deps.gateways }, saleId),
        everyMs: deps.dashboardCheckEveryMs ?? 10_000,
        logger: deps.logger,
      }),
      workflows,
      changeFeed: deps.changeFeed,
      auth,
      logger: deps.logger,
      ...(deps.temporalUiUrl && { temporalUi: { url: deps.temporalUiUrl, namespace: deps.temporalNamespace ?? 'default' } }),
    }),
  );
  app.use(adminRouter({ pool: deps.pool, temporal: deps.temporal, gateways: deps.gateways, sales, auth }));
  app.use(myDataRouter({ pool: deps.pool, auth, notifyEmailDomain: deps.shopperData.notifyEmailDomain }));
  app.use(
    adminShoppersRouter({
      pool: deps.pool,
      shopperWorkflows: createShopperWorkflows(deps.temporal),
      erasureSecret: deps.shopperData.erasureSecret,
      auth,
      logger: deps.logger,
    }),
  );
  for (const router of deps.extraRoutes ?? []) app.use(router);
  app.use(webPagesRouter({ logger: deps.logger, ...(deps.webDistDir && { distDir: deps.webDistDir }) }));
  app.use(notFoundHandler);
  app.use(createErrorHandler(deps.logger));

  const fastPath = soldOutFastPath({
    soldOut: deps.soldOut,
    knownShopper: auth.knownShopper,
    metrics: deps.metrics,
    onClaim: (saleId, outcome) => saleFeed.countClaim(saleId, outcome),
    ...(cors && { corsHeaders: cors.responseHeaders }),
    shopperBudget: shopperLimit.budget,
    enabled: () => rateLimits.perIp.limit === 0,
  });
  const queueMe = queueMeFastPath({
    sales,
    waitingRoom,
    knownShopper: auth.knownShopper,
    metrics: deps.metrics,
    ...(cors && { corsHeaders: cors.responseHeaders }),
    // A per-IP limit counts every request in Express's limiter, and debug logs every request there.
    enabled: () => rateLimits.perIp.limit === 0 && !deps.logger.isLevelEnabled('debug'),
  });
  const join = joinFastPath({
    sales,
    waitingRoom,
    knownShopper: auth.knownShopper,
    verifyShopper: auth.verifyShopper,
    queueBudget: queueLimit.budget,
    metrics: deps.metrics,
    ...(cors && { corsHeaders: cors.responseHeaders }),
    enabled: () => rateLimits.perIp.limit === 0 && !deps.logger.isLevelEnabled('debug'),
    logger: deps.logger,
    express: app,
  });
  const shedCrowd = crowdShedding({
    ...(deps.crowdShedding ?? NO_CROWD_SHEDDING),
    metrics: deps.metrics,
    queueMeFromMemory: queueMe,
    ...(cors && { corsHeaders: cors.responseHeaders }),
  });
  const listener: RequestListener = shedCrowd((req, res) => {
    if (!fastPath(req, res) && !queueMe(req, res) && !join(req, res)) app(req, res);
  });
  return { app, listener };
}
