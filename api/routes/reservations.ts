import type { SaleFeed } from '../services/sale-feed';
import { Router } from 'express';
import type { Pool } from 'pg';
import { toReservationView } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import { principalOf, type createAuth } from '../auth';
import { visibleReservation } from '../services/visible-reservation';
import type { Metrics } from '../metrics';
import { Problem } from '../problem';
import { idempotencyKeyHeader, requireUuid } from '../schemas';
import { claimReservation } from '../services/claim-reservation';
import type { ReservationWorkflows } from '../../clients/reservation-workflows';
import { cancelHeldReservation } from '../services/cancel-reservation';
import type { SaleCache } from '../services/sale-cache';
import type { SoldOutRegistry } from '../services/sold-out-registry';
import type { WaitingRoom } from '../services/waiting-room';
import { findReservationByIdempotencyKey } from '../../db/queries/find-reservation';
import type { CrashPointHook } from '../../domain/crash-points';

export interface ReservationRouteDeps {
  pool: Pool;
  sales: SaleCache;
  workflows: ReservationWorkflows;
  auth: ReturnType<typeof createAuth>;
  metrics: Metrics;
  soldOut: SoldOutRegistry;
  waitingRoom: WaitingRoom;
  onCrashPoint?: CrashPointHook;
  /** Tallies claim answers per sale for the live dashboard's claims per second. */
  saleFeed?: Pick<SaleFeed, 'countClaim'>;
}

const QUEUE_TICKET_MAX_LENGTH = 4096;
const SOLD_OUT_DETAIL = 'every unit is held or sold; units come back when holds expire';

export function reservationsRouter(deps: ReservationRouteDeps): Router {
  const router = Router();

  router.post('/v1/sales/:saleId/reservations', deps.auth.shopper, async (req, res) => {
    const principal = principalOf(res);
    if (principal.kind !== 'shopper') throw new Problem(401, ErrorCode.Unauthorized, 'claims need a shopper token');
    const saleId = requireUuid(req.params.saleId, 'sale');
    const idempotencyKey = readIdempotencyKey(req.get('idempotency-key'));
    const queueTicket = readQueueTicket(req.get('queue-ticket'));
    const sale = await deps.sales.get(saleId);
    if (!sale) throw new Problem(404, ErrorCode.NotFound, 'sale not found');
    if (Date.now() < sale.starts_at.getTime()) {
      throw new Problem(425, ErrorCode.SaleNotStarted, `the sale starts at ${sale.starts_at.toISOString()}`, {
        startsAt: sale.starts_at.toISOString(),
      });
    }

    if (!idempotencyKey && deps.soldOut.admit(sale.id) === 'sold-out') {
      deps.metrics.claims.inc({ outcome: 'sold-out-from-memory' });
      deps.saleFeed?.countClaim(sale.id, 'sold-out');
      throw new Problem(409, ErrorCode.SoldOut, SOLD_OUT_DETAIL);
    }
    // The gate comes after the sold-out answer from memory, as in the fast path (api/sold-out-fast-path.ts),
    // so both paths answer alike. A replay with the Idempotency-Key of a claim made while admitted passes.
    let queueTicketId: string | null = null;
    if (sale.waiting_room) {
      try {
        queueTicketId = await deps.waitingRoom.requireAdmission(sale.id, principal.shopperId, queueTicket);
      } catch (refusal) {
        const replayed =
          idempotencyKey && (await findReservationByIdempotencyKey(deps.pool, sale.id, principal.shopperId, idempotencyKey));
        if (!replayed) throw refusal;
      }
    }
    const ticket = deps.soldOut.ticket(sale.id);
    const outcome = await claimReservation(deps, { sale, shopperId: principal.shopperId, idempotencyKey, queueTicketId });
    deps.metrics.claims.inc({ outcome: outcome.kind });
    deps.saleFeed?.countClaim(sale.id, outcome.kind);
    if (outcome.kind === 'sold-out' && outcome.noUnitLeft) deps.soldOut.markSoldOut(sale.id, ticket);
    if (outcome.kind === 'reserved' && !outcome.replayed) deps.soldOut.unitClaimed(sale.id);
    switch (outcome.kind) {
      case 'reserved':
        res.status(201).location(`/v1/reservations/${outcome.reservation.id}`).json(toReservationView(outcome.reservation));
        return;
      case 'sold-out':
        throw new Problem(409, ErrorCode.SoldOut, SOLD_OUT_DETAIL);
      case 'already-reserved':
        throw new Problem(409, ErrorCode.AlreadyReserved, 'you already hold or own a unit of this sale', {
          reservationId: outcome.reservationId,
        });
      case 'admission-spent':
        throw new Problem(403, ErrorCode.AdmissionSpent, 'your admission was spent by your earlier claim; it admits one claim', {
          reservationId: outcome.reservationId,
        });
      case 'admission-over':
        // The claim statement found the admission over after the gate let it through (db/queries/claim-unit.ts).
        throw await deps.waitingRoom.admissionOver(sale.id, principal.shopperId);
    }
  });

  router.get('/v1/reservations/:reservationId', deps.auth.shopperOrAdmin, async (req, res) => {
    const reservation = await visibleReservation(deps.pool, res, req.params.reservationId);
    res.json(toReservationView(reservation));
  });

  router.post('/v1/reservations/:reservationId/cancel', deps.auth.shopperOrAdmin, async (req, res) => {
    const reservation = await visibleReservation(deps.pool, res, req.params.reservationId);
    res.json(toReservationView(await cancelHeldReservation(deps, reservation)));
  });

  return router;
}

function readIdempotencyKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  const parsed = idempotencyKeyHeader.safeParse(header);
  if (!parsed.success)
    throw new Problem(400, ErrorCode.InvalidRequest, `Idempotency-Key: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** A Queue-Ticket longer than any ticket is refused on every sale, with a waiting room or not (docs/openapi.yaml). */
function readQueueTicket(header: string | undefined): string | undefined {
  if (header !== undefined && header.length > QUEUE_TICKET_MAX_LENGTH)
    throw new Problem(400, ErrorCode.InvalidRequest, `Queue-Ticket: at most ${QUEUE_TICKET_MAX_LENGTH} characters`);
  return header;
}
