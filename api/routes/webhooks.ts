import express, { Router } from 'express';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { ReservationWorkflows } from '../../clients/reservation-workflows';
import { findReservation } from '../../db/queries/find-reservation';
import { beginWebhookEvent, finishWebhookEvent } from '../../db/queries/webhook-events';
import { ErrorCode } from '../../domain/errors';
import type { ChargeEvent } from '../../domain/payment';
import { verifyWebhookSignature } from '../../payments/webhook-signature';
import { Problem } from '../problem';
import { requireUuid } from '../schemas';

export interface WebhookRouteDeps {
  pool: Pool;
  workflows: ReservationWorkflows;
  webhookSecret: string;
  logger: Logger;
}

const token = (max: number) =>
  z
    .string()
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII')
    .max(max);
const webhookBody = z.object({
  id: token(200),
  type: z.enum(['charge.succeeded', 'charge.failed', 'charge.refunded']),
  data: z.object({
    chargeId: token(200),
    reference: token(200),
    gateway: token(100),
    failureReason: token(200).optional(),
  }),
});

/*
 * Provider webhooks. The signature is checked over the raw body (so the route parses its own
 * body), then the event is recorded once and routed: while the reservation waits for its payment
 * the workflow gets it as a signal; a capture reported for a reservation that ended otherwise
 * starts late-charge-<chargeId>, which refunds it unless it bought the unit.
 */
export function webhooksRouter(deps: WebhookRouteDeps): Router {
  const router = Router();

  router.post('/v1/webhooks/payments', express.raw({ type: () => true, limit: '64kb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    const verdict = verifyWebhookSignature(deps.webhookSecret, req.get('x-signature') ?? '', raw, Math.floor(Date.now() / 1000));
    if (!verdict.ok) throw new Problem(400, ErrorCode.BadSignature, verdict.reason);

    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new Problem(400, ErrorCode.InvalidRequest, 'the body is not valid JSON');
    }
    const parsed = webhookBody.safeParse(json);
    if (!parsed.success)
      throw new Problem(
        400,
        ErrorCode.InvalidRequest,
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const { id, type, data } = parsed.data;

    const fresh = await beginWebhookEvent(deps.pool, { id, type, chargeId: data.chargeId, reference: data.reference });
    if (!fresh) {
      res.status(204).end();
      return;
    }
    const reservation = await findReservation(deps.pool, safeUuid(data.reference) ?? '00000000-0000-0000-0000-000000000000');
    if (!reservation) {
      deps.logger.warn({ eventId: id, reference: data.reference }, 'webhook for an unknown reservation ignored');
    } else {
      const event: ChargeEvent = {
        eventId: id,
        type,
        chargeId: data.chargeId,
        gateway: data.gateway,
        failureReason: data.failureReason,
      };
      // Signalled only when it can matter to the workflow (each signal costs it a history event and
      // a workflow task): the capture that bought the unit, or a failure once the payment is no
      // longer pending, tells it nothing.
      const boughtWithIt = reservation.status === 'paid' && reservation.charge_id === data.chargeId;
      const news = type === 'charge.succeeded' ? !boughtWithIt : reservation.status === 'payment_pending';
      const delivered = news ? await deps.workflows.signalChargeEvent(reservation.id, event) : true;
      const settledElsewise = reservation.status !== 'payment_pending' && !boughtWithIt;
      if (type === 'charge.succeeded' && (!delivered || settledElsewise)) {
        // Refunds are idempotent per charge, so the workflow and this check may both try.
        await deps.workflows.startLateCharge(
          { reservationId: reservation.id, chargeId: data.chargeId, gateway: data.gateway },
          reservation.sale_id,
        );
      }
    }
    await finishWebhookEvent(deps.pool, id);
    res.status(204).end();
  });

  return router;
}

function safeUuid(value: string): string | undefined {
  try {
    return requireUuid(value, 'reservation');
  } catch {
    return undefined;
  }
}
