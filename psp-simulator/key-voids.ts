import type { ServiceAnswer } from './charges';
import type { IdempotencyStore, StoredResponse } from './idempotency';
import type { LedgerStore } from './ledger-store';
import { PspProblem } from './problem';
import type { Charge } from './types';

export interface KeyVoidService {
  /**
   * Voids a charge key: if no charge was made with it, no charge ever will be (200); if one was,
   * its charge is the answer (409 `charge-exists`). One atomic step, so a charge request still in
   * flight either made its charge before (and is reported) or is refused when it arrives.
   */
  voidChargeKey(key: string): Promise<ServiceAnswer>;
  /** Keys this process voided. */
  voidedKeys(): string[];
}

/** The charge a stored charge answer describes (201: the body; 402: `body.charge`). */
function chargeOf(response: StoredResponse): Charge | undefined {
  const body = response.body as { object?: string; charge?: Charge };
  if (body.object === 'charge') return body as Charge;
  return body.charge;
}

export function createKeyVoidService(deps: { ledger: LedgerStore; idempotency: IdempotencyStore }): KeyVoidService {
  const voided = new Set<string>();
  return {
    voidedKeys: () => [...voided],
    voidChargeKey: async (key) => {
      const fence = deps.idempotency.fence('charges', key);
      if (fence.kind === 'fenced') {
        voided.add(key);
        return { response: { status: 200, body: { object: 'charge_key', key, status: 'voided' } }, replayed: false };
      }
      // A processing charge (tok_slow) is reported as it is now; anything else has its answer stored.
      const charge = (fence.resourceId && deps.ledger.charge(fence.resourceId)) || chargeOf(await fence.response);
      if (!charge) throw new Error(`charge key ${key} was used but no charge is recorded for it`);
      const problem = new PspProblem(409, 'charge-exists', `a charge was made with this key (${charge.status})`, { charge });
      return { response: { status: 409, body: problem.body() }, replayed: false };
    },
  };
}
