import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import type { ReservationWorkflows } from '../../clients/reservation-workflows';
import { findReservation } from '../../db/queries/find-reservation';
import { toReservationView, type ReservationRow } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import { PAYMENT_METHOD_PATTERN } from '../../domain/payment';
import type { createAuth } from '../auth';
import { Problem } from '../problem';
import { parseBody } from '../schemas';
import { ensureWorkflowStarted, refuseIfStartRefused } from '../services/cancel-reservation';
import { visibleReservation } from '../services/visible-reservation';

export interface PaymentRouteDeps {
  pool: Pool;
  workflows: ReservationWorkflows;
  auth: ReturnType<typeof createAuth>;
}

const paymentBody = z.strictObject({
  paymentMethod: z.string().regex(PAYMENT_METHOD_PATTERN, 'a payment method token such as tok_visa'),
});

function refuseUnlessPayable(reservation: ReservationRow): void {
  refuseIfStartRefused(reservation);
  const holdOver =
    reservation.status === 'expired' || (reservation.status === 'held' && Date.now() >= reservation.expires_at.getTime());
  if (holdOver) throw new Problem(409, ErrorCode.HoldExpired, `the hold ended at ${reservation.expires_at.toISOString()}`);
  if (reservation.status !== 'held') {
    throw new Problem(409, ErrorCode.InvalidState, `a ${reservation.status} reservation cannot be paid`, {
      reservationStatus: reservation.status,
    });
  }
}

export function paymentsRouter(deps: PaymentRouteDeps): Router {
  const router = Router();

  router.post('/v1/reservations/:reservationId/payment', deps.auth.shopper, async (req, res) => {
    const { paymentMethod } = parseBody(paymentBody, req.body);
    const reservation = await visibleReservation(deps.pool, res, req.params.reservationId);
    refuseUnlessPayable(reservation);
    // The relay may not have started the workflow yet; starting is idempotent.
    await ensureWorkflowStarted(deps.workflows, reservation);
    const answer = await deps.workflows.submitPayment(reservation.id, paymentMethod);
    const after = (await findReservation(deps.pool, reservation.id)) ?? reservation;
    if (!answer.ok) {
      const code = answer.code === ErrorCode.HoldExpired ? ErrorCode.HoldExpired : ErrorCode.InvalidState;
      throw new Problem(409, code, `the payment was refused: the reservation is ${after.status}`, {
        reservationStatus: after.status,
      });
    }
    res.status(202).location(`/v1/reservations/${after.id}`).json(toReservationView(after));
  });

  return router;
}
