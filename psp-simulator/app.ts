import express, { type Express } from 'express';
import type { Logger } from 'pino';
import { createChargeService } from './charges';
import type { Tunables } from './config';
import { createFaultInjector } from './faults';
import { createIdempotencyStore } from './idempotency';
import type { Journal, JournalEntry } from './journal';
import { createKeyVoidService } from './key-voids';
import { createLedgerStore } from './ledger-store';
import { createErrorHandler, notFoundHandler } from './problem';
import type { Random } from './random';
import { createRefundService } from './refunds';
import { pspRouter } from './routes';
import type { WebhookDispatcher } from './webhooks';

export interface PspAppDeps {
  /** `PSP_NAME`: in charge ids, refund ids and the ledger. */
  name: string;
  /** Mutable: `PUT /v1/_control/config` changes it in place. */
  tunables: Tunables;
  random: Random;
  journal: Journal;
  /** What the journal held at start. */
  journaled: readonly JournalEntry[];
  webhooks: WebhookDispatcher;
  logger: Logger;
}

export function createPspApp(deps: PspAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(express.json({ limit: '16kb', strict: true }));

  const ledger = createLedgerStore(deps.journal, deps.journaled);
  const idempotency = createIdempotencyStore(deps.journal, deps.journaled);
  const charges = createChargeService({ ...deps, ledger, idempotency });
  const refunds = createRefundService({ ...deps, ledger, idempotency });
  const keyVoids = createKeyVoidService({ ledger, idempotency });
  const faults = createFaultInjector(deps.tunables, deps.random);
  // tok_slow charges that were still processing when a journaled PSP stopped finish now.
  charges.resumeProcessing();

  app.use(pspRouter({ ...deps, ledger, charges, refunds, keyVoids, faults }));
  app.use(notFoundHandler);
  app.use(createErrorHandler(deps.logger));
  return app;
}
