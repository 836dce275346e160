import { z } from 'zod';
import { databaseEnv, logEnv, parseEnv, secret, shopperTokenEnv, temporalEnv } from '../config/common';

export const apiEnv = databaseEnv
  .merge(temporalEnv)
  .merge(logEnv)
  .merge(shopperTokenEnv)
  .extend({
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
    JWT_SECRET: secret(32),
    ADMIN_TOKEN: secret(12),
    WEBHOOK_SECRET: secret(12),
    /** HMAC key of waiting-room challenges and queue tickets (issue 9). */
    QUEUE_SECRET: secret(32),
    /** HMAC key of erased shoppers' pseudonyms (api/services/shopper-pseudonym.ts); never rotated, see docs/CONFIGURATION.md. */
    ERASURE_SECRET: secret(32),
    /** The shoppers' mail domain, as the worker's: GET /v1/me/export names the address notices went to. */
    NOTIFY_EMAIL_DOMAIN: z.string().default('shoppers.invalid'),
    /** Payment providers whose ledgers the invariant checker route reads. */
    PSP_URL: z.string().url().default('http://127.0.0.1:4000'),
    PSP_SECONDARY_URL: z.string().url().optional(),
    /** Upper bound on stripes per sale (see migrations/0001). */
    SALE_MAX_STRIPES: z.coerce.number().int().min(1).max(1024).default(64),
    /** Requests per window per client IP on every route but health, metrics and webhooks; 0 = off. */
    RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(0),
    RATE_LIMIT_PER_IP_WINDOW_MS: z.coerce.number().int().min(1).default(60_000),
    /** Claims and payment requests per window per shopper (JWT `sub`); 0 = off. */
    RATE_LIMIT_PER_SHOPPER: z.coerce.number().int().min(0).default(60),
    RATE_LIMIT_PER_SHOPPER_WINDOW_MS: z.coerce.number().int().min(1).default(10_000),
    /** Challenges plus queue joins per window per shopper (waiting-room routes); 0 = off. */
    RATE_LIMIT_QUEUE_PER_SHOPPER: z.coerce.number().int().min(0).default(20),
    RATE_LIMIT_QUEUE_PER_SHOPPER_WINDOW_MS: z.coerce.number().int().min(1).default(60_000),
    /** Failed authentications per client IP on the routes that take the admin token (api/admin-auth-throttle.ts); 0 = off. */
    ADMIN_AUTH_FAILURES_PER_IP: z.coerce.number().int().min(0).default(10),
    ADMIN_AUTH_FAILURES_WINDOW_MS: z.coerce.number().int().min(1).default(900_000),
    /**
     * Connections of the checkout pool: admitted shoppers' claims, payments and reads of their
     * reservations, apart from PG_POOL_MAX's pool that the waiting crowd's work uses (api/app.ts).
     */
    PG_CHECKOUT_POOL_MAX: z.coerce.number().int().positive().default(5),
    /** Event-loop delay past which the waiting crowd's routes are answered 429 before Express (api/crowd-shedding.ts); 0 = never. */
    CROWD_SHED_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).default(40),
    /** A shed answer's Retry-After: between this and twice this, in whole seconds, so retries spread. */
    CROWD_SHED_RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(60).default(2),
    /** Client connections the API accepts at once; past it a new one is closed (api/connection-cap.ts). Unset: the open-file limit less a tenth. */
    HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).optional(),
    /** Server-Sent Events streams open at once in this API process, from one client IP, and of one shopper; 0 = no cap. */
    SSE_MAX_STREAMS: z.coerce.number().int().min(0).default(5_000),
    SSE_MAX_STREAMS_PER_IP: z.coerce.number().int().min(0).default(50),
    SSE_MAX_STREAMS_PER_SHOPPER: z.coerce.number().int().min(0).default(5),
    /** How often the change feed's LISTEN connection proves it still hears (a NOTIFY to itself); no echo within as long again reconnects. */
    CHANGE_FEED_CHECK_MS: z.coerce.number().int().min(100).default(10_000),
    /** Proxies in front of the API whose X-Forwarded-For is believed (Express `trust proxy` hop count). */
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    /** The Temporal Web UI's address, for the dashboard's links to a sale's workflows; unset = no links. */
    TEMPORAL_UI_URL: z.string().url().optional(),
    /** The dashboard runs the invariant checker at most this often per sale (shared by every open dashboard). */
    DASHBOARD_CHECK_EVERY_MS: z.coerce.number().int().min(1000).default(10_000),
    /** Browser origins allowed to call the API (comma list, e.g. `https://shop.example`); empty = CORS off. */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((list) =>
        list
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'origins like https://shop.example, no path'))),
  });

export type ApiConfig = ReturnType<typeof loadApiConfig>;

export function loadApiConfig(env: NodeJS.ProcessEnv) {
  return parseEnv(apiEnv, env);
}
