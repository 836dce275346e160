import type { IdempotencyStore } from './idempotency';
import type { LedgerStore } from './ledger-store';
import { PspProblem } from './problem';
import { randomId } from './random';
import type { Charge, Refund } from './types';
import type { WebhookDispatcher } from './webhooks';
import { chargeEvent } from './events';
import type { ServiceAnswer } from './charges';

export interface RefundRequest {
  chargeId: string;
  reason?: string;
}

export interface RefundServiceDeps {
  name: string;
  ledger: LedgerStore;
  idempotency: IdempotencyStore;
  webhooks: WebhookDispatcher;
}

export interface RefundService {
  refund(idempotencyKey: string, request: RefundRequest): Promise<ServiceAnswer>;
}

/** Test payment method whose charges succeed and can never be refunded. */
export const REFUSES_REFUNDS = 'tok_refundRefused';

/** Full refunds only: a charge is refunded at most once, whatever the keys. */
export function createRefundService(deps: RefundServiceDeps): RefundService {
  const { ledger, idempotency } = deps;

  const refusal = (charge: Charge): PspProblem | undefined => {
    if (charge.status === 'failed') return new PspProblem(409, 'charge-not-captured', 'the charge failed; nothing to refund');
    if (charge.status === 'processing') return new PspProblem(409, 'charge-not-captured', 'the charge is still processing');
    if (charge.status === 'succeeded' && charge.paymentMethod === REFUSES_REFUNDS)
      return new PspProblem(422, 'refund-refused', 'the issuer refuses refunds to this payment method');
    if (charge.status !== 'refunded') return undefined;
    const existing = charge.refundId ? ledger.refund(charge.refundId) : undefined;
    return new PspProblem(409, 'already-refunded', `the charge was already refunded by ${charge.refundId ?? 'another refund'}`, {
      refund: existing,
    });
  };

  /** The charge to refund, or why it cannot be refunded. */
  const refundable = (chargeId: string): { charge: Charge } | { problem: PspProblem } => {
    const charge = ledger.charge(chargeId);
    if (!charge) return { problem: new PspProblem(404, 'not-found', `no charge ${chargeId}`) };
    const problem = refusal(charge);
    return problem ? { problem } : { charge };
  };

  return {
    refund: async (key, request) => {
      const claim = idempotency.claim('refunds', key, JSON.stringify([request.chargeId, request.reason ?? null]));
      if (claim.kind === 'mismatch') {
        throw new PspProblem(422, 'idempotency-key-reuse', 'this Idempotency-Key was used for a refund with other parameters');
      }
      if (claim.kind === 'existing') return { response: await claim.response, replayed: true };
      if (claim.kind === 'voided') throw new PspProblem(409, 'idempotency-key-voided', 'this Idempotency-Key was voided');

      const checked = refundable(request.chargeId);
      if ('problem' in checked) {
        // Refusals are not stored under the key: they describe the charge's state, not an action taken.
        const { problem } = checked;
        claim.reservation.release({ status: problem.status, body: problem.body() });
        throw problem;
      }
      const { charge } = checked;
      const refund: Refund = {
        id: randomId(`re_${deps.name}`),
        object: 'refund',
        chargeId: charge.id,
        amountCents: charge.amountCents,
        currency: charge.currency,
        status: 'succeeded',
        reference: charge.reference,
        ...(request.reason !== undefined ? { reason: request.reason } : {}),
        createdAt: new Date().toISOString(),
      };
      const refunded = { ...charge, status: 'refunded' as const, refundId: refund.id };
      ledger.saveRefund(refund);
      ledger.saveCharge(refunded);
      const response = { status: 201, body: refund };
      claim.reservation.complete(response, refund.id);
      deps.webhooks.emit(chargeEvent('charge.refunded', refunded, refund.id));
      return { response, replayed: false };
    },
  };
}
