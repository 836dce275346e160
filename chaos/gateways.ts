import { request } from 'undici';
import type { Ledger } from '../payments/gateway';

/**
 * What the primary simulator is told at `--primary-fails-at` (its `PUT /v1/_control/config`,
 * psp-simulator/README.md): 60% of POSTs answer 503 (half of them after the charge or refund was
 * made), a third of the rest answer after 6 s, past the worker's 4 s gateway timeout. Charges
 * that never reached it move at once; those that reached it move only once it voided their key;
 * refunds of its captures keep being retried there. It stays so until the end of the run.
 */
export const PRIMARY_FAILURE = { fault5xxRate: 0.6, faultSlowRate: 0.33, faultSlowMs: 6_000 } as const;

export async function failGateway(pspUrl: string): Promise<void> {
  const answer = await request(`${pspUrl}/v1/_control/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(PRIMARY_FAILURE),
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`the simulator refused the fault config: ${answer.statusCode} ${text}`);
}

export interface GatewayUse {
  name: string;
  /** Charges of the sale at this gateway by status, and keys it voided (charges that moved away). */
  chargesByStatus: Record<string, number>;
  voidedKeys: number;
  /** The simulator's injected faults so far (`GET /v1/ledger` carries them beside the contract's fields). */
  faults?: Record<string, number>;
}

export function gatewayUse(
  name: string,
  ledger: Ledger & { faults?: Record<string, number> },
  references: ReadonlySet<string>,
): GatewayUse {
  const chargesByStatus: Record<string, number> = {};
  for (const charge of ledger.charges.filter((c) => references.has(c.reference)))
    chargesByStatus[charge.status] = (chargesByStatus[charge.status] ?? 0) + 1;
  return { name, chargesByStatus, voidedKeys: ledger.voidedKeys.length, faults: ledger.faults };
}
