import { randomId } from './random';
import type { Charge, WebhookEvent, WebhookEventType } from './types';

export function chargeEvent(type: WebhookEventType, charge: Charge, refundId?: string): WebhookEvent {
  return {
    id: randomId('evt'),
    type,
    createdAt: new Date().toISOString(),
    data: {
      chargeId: charge.id,
      reference: charge.reference,
      amountCents: charge.amountCents,
      currency: charge.currency,
      status: charge.status,
      ...(charge.failureReason ? { failureReason: charge.failureReason } : {}),
      ...(refundId ? { refundId } : {}),
      gateway: charge.gateway,
    },
  };
}
