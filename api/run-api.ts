import http from 'node:http';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { temporalConnectionPlan } from '../clients/temporal-connection';
import { createPool } from '../db/pool';
import { createHttpGateway } from '../payments/http-gateway';
import { createApp } from './app';
import { answerClientError } from './client-errors';
import { defaultMaxConnections, openFilesLimit } from './connection-cap';
import { loadApiConfig } from './config';
import { createMetrics } from './metrics';
import { createSoldOutRegistry } from './services/sold-out-registry';
import { createChangeFeed } from './services/change-feed';
import type { Router } from 'express';
import type { CrashPointHook } from '../domain/crash-points';

export interface ApiHooks {
  /** Test harness only (test/helpers/entries/api-with-crash-points.ts). */
  onCrashPoint?: CrashPointHook;
  /** Development launcher and test harness only: the development sign-in (scripts/stack/dev-sign-in.ts). */
  extraRoutes?: readonly Router[];
}

/** Loads the configuration from `env`, builds the app and serves it until SIGTERM or SIGINT. */
export async function runApi(env: NodeJS.ProcessEnv, hooks: ApiHooks = {}): Promise<void> {
  const config = loadApiConfig(env);
  const logger = pino({
    level: config.LOG_LEVEL,
    base: { service: 'api' },
    redact: ['req.headers.authorization', 'req.headers["x-signature"]'],
  });
  const pool = createPool({
    databaseUrl: config.DATABASE_URL,
    max: config.PG_POOL_MAX,
    applicationName: 'flash-sale-api',
    statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
    logger,
  });
  // The checkout pool: admitted shoppers' claims, payments and reservation reads (api/app.ts, `checkoutPool`).
  const checkoutPool = createPool({
    databaseUrl: config.DATABASE_URL,
    max: config.PG_CHECKOUT_POOL_MAX,
    applicationName: 'flash-sale-api-checkout',
    statementTimeoutMs: config.PG_STATEMENT_TIMEOUT_MS,
    logger,
  });
  // Lazy: the API starts (and /readyz says 503) while Temporal is still coming up.
  const plan = temporalConnectionPlan(config);
  const connection = Connection.lazy(plan.connection);
  const temporal = new Client({ connection, namespace: plan.namespace, dataConverter: plan.dataConverter });

  const soldOut = createSoldOutRegistry({ databaseUrl: config.DATABASE_URL, logger });
  const metrics = createMetrics();
  const changeFeed = createChangeFeed({
    databaseUrl: config.DATABASE_URL,
    logger,
    checkEveryMs: config.CHANGE_FEED_CHECK_MS,
    onReconnect: (reason) => metrics.changeFeedReconnects.inc({ reason }),
  });
  const { listener } = createApp({
    soldOut,
    changeFeed,
    pool,
    checkoutPool,
    temporal,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    auth: {
      jwtSecret: config.JWT_SECRET,
      adminToken: config.ADMIN_TOKEN,
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
      adminFailures: { limit: config.ADMIN_AUTH_FAILURES_PER_IP, windowMs: config.ADMIN_AUTH_FAILURES_WINDOW_MS },
    },
    logger,
    metrics,
    maxStripes: config.SALE_MAX_STRIPES,
    webhookSecret: config.WEBHOOK_SECRET,
    queueSecret: config.QUEUE_SECRET,
    shopperData: { erasureSecret: config.ERASURE_SECRET, notifyEmailDomain: config.NOTIFY_EMAIL_DOMAIN },
    gateways: [config.PSP_URL, config.PSP_SECONDARY_URL]
      .filter((url): url is string => !!url)
      .map((baseUrl) => createHttpGateway({ baseUrl, timeoutMs: 10_000 })),
    rateLimits: {
      perIp: { limit: config.RATE_LIMIT_PER_IP, windowMs: config.RATE_LIMIT_PER_IP_WINDOW_MS },
      perShopper: { limit: config.RATE_LIMIT_PER_SHOPPER, windowMs: config.RATE_LIMIT_PER_SHOPPER_WINDOW_MS },
      queuePerShopper: {
        limit: config.RATE_LIMIT_QUEUE_PER_SHOPPER,
        windowMs: config.RATE_LIMIT_QUEUE_PER_SHOPPER_WINDOW_MS,
      },
    },
    trustProxy: config.TRUST_PROXY,
    streamLimits: {
      total: config.SSE_MAX_STREAMS,
      perIp: config.SSE_MAX_STREAMS_PER_IP,
      perShopper: config.SSE_MAX_STREAMS_PER_SHOPPER,
    },
    temporalUiUrl: config.TEMPORAL_UI_URL,
    temporalNamespace: config.TEMPORAL_NAMESPACE,
    dashboardCheckEveryMs: config.DASHBOARD_CHECK_EVERY_MS,
    corsOrigins: config.CORS_ORIGINS,
    crowdShedding: {
      maxEventLoopDelayMs: config.CROWD_SHED_EVENT_LOOP_DELAY_MS,
      retryAfterSeconds: config.CROWD_SHED_RETRY_AFTER_SECONDS,
    },
    onCrashPoint: hooks.onCrashPoint,
    extraRoutes: hooks.extraRoutes,
  });
  const server = http.createServer(listener);
  server.listen(config.PORT, config.HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    logger.info({ port }, `api listening on http://${config.HOST}:${port}`);
  });
  server.keepAliveTimeout = 65_000;
  const maxConnections = config.HTTP_MAX_CONNECTIONS ?? defaultMaxConnections(openFilesLimit());
  if (maxConnections !== undefined) server.maxConnections = maxConnections;
  server.on('drop', () => metrics.connectionsDropped.inc());
  server.on('clientError', answerClientError);

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    // Ends the open event streams first: server.close() waits for every connection to finish.
    const feedStopped = changeFeed.stop();
    server.close(() => {
      void Promise.allSettled([pool.end(), checkoutPool.end(), connection.close(), soldOut.stop(), feedStopped]).then(() =>
        process.exit(0),
      );
    });
    server.closeIdleConnections();
    setTimeout(() => process.exit(0), 10_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
