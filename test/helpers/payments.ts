import { signWebhook } from '../../payments/webhook-signature';
import { TEST_SECRETS } from './app-under-test';
import type { ApiClient } from './api-client';
import { waitFor } from './sales';

export interface ReservationAnswer {
  id: string;
  status: string;
  unitId: number;
  payment?: { status: string; chargeId?: string; failureReason?: string };
}

const FINAL = new Set(['paid', 'expired', 'cancelled', 'payment_failed']);

export function waitUntilSettled(
  api: ApiClient,
  reservationId: string,
  token: string,
  timeoutMs = 60_000,
): Promise<ReservationAnswer> {
  return waitFor(
    async () => (await api.get<ReservationAnswer>(`/v1/reservations/${reservationId}`, token)).body,
    (reservation) => FINAL.has(reservation.status),
    timeoutMs,
    `reservation ${reservationId} settled`,
  );
}

export interface LedgerCharge {
  id: string;
  status: string;
  reference: string;
  gateway: string;
}

export interface Ledger {
  charges: LedgerCharge[];
  refunds: Array<{ id: string; chargeId: string; reference: string }>;
  voidedKeys: string[];
  webhooks: Record<string, number>;
  faults: Record<string, number>;
}

export async function readLedger(pspUrl: string): Promise<Ledger> {
  const response = await fetch(`${pspUrl}/v1/ledger`);
  return (await response.json()) as Ledger;
}

/** Changes a running simulator's faults (`PUT /v1/_control/config`). */
export async function setPspFaults(
  pspUrl: string,
  faults: {
    fault5xxRate?: number;
    faultResetRate?: number;
    faultSlowRate?: number;
    faultSlowMs?: number;
    chargeStallMs?: number;
  },
): Promise<void> {
  const response = await fetch(`${pspUrl}/v1/_control/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (!response.ok) throw new Error(`PUT ${pspUrl}/v1/_control/config: HTTP ${response.status}`);
}

/** A webhook as the provider would send it, signed with the test secret at `atSeconds`. */
export function signedWebhook(body: object, atSeconds = Math.floor(Date.now() / 1000), secret = TEST_SECRETS.WEBHOOK_SECRET) {
  const raw = JSON.stringify(body);
  return { raw, signature: signWebhook(secret, raw, atSeconds) };
}
