import type { Logger } from 'pino';
import type { Tunables } from './config';
import type { IdempotencyStore, KeyReservation, StoredResponse } from './idempotency';
import type { LedgerStore } from './ledger-store';
import { PspProblem } from './problem';
import { randomId } from './random';
import type { Charge, FailureReason } from './types';
import type { WebhookDispatcher } from './webhooks';
import { chargeEvent } from './events';

export interface ChargeRequest {
  amountCents: number;
  currency: string;
  paymentMethod: string;
  reference: string;
  metadata?: Record<string, string>;
}

export interface ServiceAnswer {
  response: StoredResponse;
  replayed: boolean;
}

export interface ChargeServiceDeps {
  name: string;
  tunables: Readonly<Tunables>;
  ledger: LedgerStore;
  idempotency: IdempotencyStore;
  webhooks: WebhookDispatcher;
  logger: Logger;
}

export interface ChargeService {
  charge(idempotencyKey: string, request: ChargeRequest): Promise<ServiceAnswer>;
  /** Finishes tok_slow charges that were still processing when the process stopped. */
  resumeProcessing(): void;
}

const DECLINES: Record<string, FailureReason> = { tok_chargeDeclined: 'card_declined' };
/** tok_refundRefused: the charge succeeds, and every refund of it is refused for good (refunds.ts). */
const SUCCEEDS = new Set(['tok_visa', 'tok_refundRefused']);

/** The answer a charge's outcome gets, stored under its key and replayed for repeats. */
export function chargeResponse(charge: Charge): StoredResponse {
  if (charge.status === 'failed') {
    const problem = new PspProblem(402, 'card-declined', `the charge was declined (${charge.failureReason ?? 'unknown'})`, {
      charge,
    });
    return { status: 402, body: problem.body() };
  }
  return { status: 201, body: charge };
}

export function createChargeService(deps: ChargeServiceDeps): ChargeService {
  const { ledger, idempotency } = deps;

  const settle = (charge: Charge, reservation: KeyReservation): StoredResponse => {
    const response = chargeResponse(charge);
    ledger.saveCharge(charge);
    reservation.complete(response, charge.id);
    deps.webhooks.emit(chargeEvent(charge.status === 'failed' ? 'charge.failed' : 'charge.succeeded', charge));
    return response;
  };

  const finishSlow = (processing: Charge, reservation: KeyReservation, delayMs: number): Promise<StoredResponse> =>
    new Promise((resolve) => {
      setTimeout(() => {
        const charge = ledger.charge(processing.id) ?? processing;
        if (charge.status === 'processing') return resolve(settle({ ...charge, status: 'succeeded' }, reservation));
        const response = chargeResponse(charge);
        reservation.complete(response, charge.id);
        resolve(response);
      }, delayMs);
    });

  return {
    charge: async (key, request) => {
      const fingerprint = JSON.stringify([request.amountCents, request.currency, request.paymentMethod, request.reference]);
      const claim = idempotency.claim('charges', key, fingerprint);
      if (claim.kind === 'mismatch') {
        throw new PspProblem(422, 'idempotency-key-reuse', 'this Idempotency-Key was used for a charge with other parameters');
      }
      if (claim.kind === 'existing') return { response: await claim.response, replayed: true };
      if (claim.kind === 'voided') {
        throw new PspProblem(409, 'idempotency-key-voided', 'this Idempotency-Key was voided: no charge can be made with it');
      }

      const { reservation } = claim;
      const charge: Charge = {
        id: randomId(`ch_${deps.name}`),
        object: 'charge',
        status: 'processing',
        amountCents: request.amountCents,
        currency: request.currency,
        paymentMethod: request.paymentMethod,
        reference: request.reference,
        gateway: deps.name,
        createdAt: new Date().toISOString(),
        ...(request.metadata ? { metadata: request.metadata } : {}),
      };
      if (request.paymentMethod === 'tok_slow') {
        // Created and bound to its key now, so a retry during the wait finds it rather than charging again.
        ledger.saveCharge(charge);
        reservation.attach(charge.id);
        return { response: await finishSlow(charge, reservation, deps.tunables.slowMs), replayed: false };
      }
      if (SUCCEEDS.has(request.paymentMethod))
        return { response: settle({ ...charge, status: 'succeeded' }, reservation), replayed: false };
      const failureReason = DECLINES[request.paymentMethod] ?? 'invalid_payment_method';
      return { response: settle({ ...charge, status: 'failed', failureReason }, reservation), replayed: false };
    },

    resumeProcessing: () => {
      for (const pending of idempotency.pendingFromJournal()) {
        if (pending.scope !== 'charges') continue;
        const charge = ledger.charge(pending.resourceId);
        if (!charge) continue;
        const remainingMs = Math.max(0, Date.parse(charge.createdAt) + deps.tunables.slowMs - Date.now());
        deps.logger.info({ chargeId: charge.id, remainingMs }, 'resuming a charge that was processing at shutdown');
        void finishSlow(charge, pending.reservation, remainingMs);
      }
    },
  };
}
