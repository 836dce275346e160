import type { Response } from 'express';
import type { Pool } from 'pg';
import { findReservation } from '../../db/queries/find-reservation';
import type { ReservationRow } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import { principalOf } from '../auth';
import { Problem } from '../problem';
import { requireUuid } from '../schemas';

/** The reservation if the caller may see it; 404 otherwise, so ids of others leak nothing. */
export async function visibleReservation(pool: Pool, res: Response, rawId: unknown): Promise<ReservationRow> {
  const id = requireUuid(rawId, 'reservation');
  const reservation = await findReservation(pool, id);
  const principal = principalOf(res);
  if (!reservation || (principal.kind === 'shopper' && reservation.user_id !== principal.shopperId)) {
    throw new Problem(404, ErrorCode.NotFound, 'reservation not found');
  }
  return reservation;
}
