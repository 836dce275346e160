import { Router, type Request } from 'express';
import { z } from 'zod';
import { tunablesSchema, type Tunables } from './config';
import type { ChargeService } from './charges';
import type { FaultInjector } from './faults';
import { withFaults } from './http-faults';
import type { KeyVoidService } from './key-voids';
import type { LedgerStore } from './ledger-store';
import { PspProblem } from './problem';
import type { RefundService } from './refunds';
import type { SimulatorLedger } from './types';
import type { WebhookDispatcher } from './webhooks';

export interface PspRouteDeps {
  name: string;
  tunables: Tunables;
  ledger: LedgerStore;
  charges: ChargeService;
  refunds: RefundService;
  keyVoids: KeyVoidService;
  faults: FaultInjector;
  webhooks: WebhookDispatcher;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const chargeBody = z.object({
  amountCents: z.number().int().positive(),
  currency: z.string().regex(/^[A-Z]{3}$/),
  paymentMethod: z.string().min(1).max(255),
  reference: z.string().min(1).max(255),
  metadata: z.record(z.string(), z.string()).optional(),
});

const refundBody = z.object({
  chargeId: z.string().min(1).max(255),
  reason: z.string().max(1_000).optional(),
});

function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
    throw new PspProblem(400, 'invalid-request', detail);
  }
  return parsed.data;
}

function idempotencyKey(req: Request): string {
  const key = req.get('Idempotency-Key');
  if (!key || key.length > 255) {
    throw new PspProblem(400, 'missing-idempotency-key', 'send an Idempotency-Key header of 1 to 255 characters');
  }
  return key;
}

export function pspRouter(deps: PspRouteDeps): Router {
  const router = Router();

  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok', gateway: deps.name });
  });

  router.post(
    '/v1/charges',
    withFaults(deps.faults, async (req) => {
      const key = idempotencyKey(req);
      const request = parseBody(chargeBody, req.body);
      // Processed even if the client gave up meanwhile, as a request stuck in a real network would be.
      if (deps.tunables.chargeStallMs > 0) await delay(deps.tunables.chargeStallMs);
      return deps.charges.charge(key, request);
    }),
  );

  // Not an idempotent-keyed action itself: voiding a key is repeatable and always answers the key's state.
  router.post(
    '/v1/charge-keys/:key/void',
    withFaults(deps.faults, async (req) => {
      const key = String(req.params.key);
      if (key.length > 255) throw new PspProblem(400, 'invalid-request', 'a charge key has at most 255 characters');
      return deps.keyVoids.voidChargeKey(key);
    }),
  );

  router.post(
    '/v1/refunds',
    withFaults(deps.faults, async (req) => deps.refunds.refund(idempotencyKey(req), parseBody(refundBody, req.body))),
  );

  router.get('/v1/charges/:id', (req, res) => {
    const charge = deps.ledger.charge(req.params.id);
    if (!charge) throw new PspProblem(404, 'not-found', `no charge ${req.params.id}`);
    res.json(charge);
  });

  router.get('/v1/charges', (req, res) => {
    const { reference } = req.query;
    if (typeof reference !== 'string' || !reference) {
      throw new PspProblem(400, 'invalid-request', 'the reference query parameter is required');
    }
    res.json({ data: deps.ledger.chargesByReference(reference) });
  });

  router.get('/v1/ledger', (_req, res) => {
    const ledger: SimulatorLedger = {
      gateway: deps.name,
      charges: deps.ledger.allCharges(),
      refunds: deps.ledger.allRefunds(),
      voidedKeys: deps.keyVoids.voidedKeys(),
      webhooks: { ...deps.webhooks.stats },
      faults: { ...deps.faults.stats },
    };
    res.json(ledger);
  });

  // Simulator-only: lets a test change fault and webhook behaviour without restarting the process.
  router.put('/v1/_control/config', (req, res) => {
    Object.assign(deps.tunables, parseBody(tunablesSchema.partial(), req.body));
    res.json(deps.tunables);
  });

  return router;
}
