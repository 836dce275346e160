import { Router } from 'express';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { z } from 'zod';
import { findReservation } from '../../db/queries/find-reservation';
import { listReservations } from '../../db/queries/list-reservations';
import { toReservationView } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import { RESERVATION_STATUSES } from '../../domain/reservation';
import { HOLD_EXTENSION_MAX_SECONDS, HOLD_EXTENSION_REASON_MAX_LENGTH } from '../../domain/reservation-workflow-contract';
import type { ReservationWorkflows } from '../../clients/reservation-workflows';
import type { createAuth } from '../auth';
import { startEventStream } from '../event-stream';
import { requireSale } from '../require-sale';
import { Problem } from '../problem';
import { parseBody, plainText, requireUuid } from '../schemas';
import { cancelHeldReservation, ensureWorkflowStarted, requireHeld } from '../services/cancel-reservation';
import type { ChangeFeed } from '../services/change-feed';
import type { InvariantVerdicts } from '../services/invariant-verdicts';
import type { SaleCache } from '../services/sale-cache';
import type { AdminSaleSnapshot, SalePoint } from '../../domain/sale-feed';
import type { SaleFeed } from '../services/sale-feed';

export interface AdminSalesDeps {
  pool: Pool;
  sales: SaleCache;
  saleFeed: SaleFeed;
  verdicts: InvariantVerdicts;
  workflows: ReservationWorkflows;
  changeFeed: ChangeFeed;
  auth: ReturnType<typeof createAuth>;
  logger: Logger;
  /** The Temporal Web UI's base address (TEMPORAL_UI_URL) and namespace, for links; none leaves links out. */
  temporalUi?: { url: string; namespace: string };
}

const listQuery = z
  .object({
    status: z.enum(RESERVATION_STATUSES),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().uuid().optional(),
  })
  .strict();

const extendBody = z
  .object({
    seconds: z.number().int().min(1).max(HOLD_EXTENSION_MAX_SECONDS),
    reason: plainText(HOLD_EXTENSION_REASON_MAX_LENGTH),
  })
  .strict();

/** Links to the sale's reservation workflows in the Temporal Web UI: all, and one per status. */
export function temporalUiLinks(ui: { url: string; namespace: string }, saleId: string) {
  const base = `${ui.url.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(ui.namespace)}/workflows?query=`;
  const link = (query: string) => base + encodeURIComponent(query);
  return {
    all: link(`SaleId="${saleId}"`),
    byStatus: Object.fromEntries(
      RESERVATION_STATUSES.map((status) => [status, link(`SaleId="${saleId}" AND ReservationStatus="${status}"`)]),
    ),
  };
}

/*
 * Operators and support staff (admin token):
 * - GET /v1/admin/sales/:saleId/events: the live dashboard's stream. `history` once (the readings
 *   kept, up to 10 minutes), then `snapshot` with each reading: units by status, holds ending in
 *   the next minute, payments by outcome, claims per second by outcome (this API process),
 *   reservations per second (all processes), the waiting room's queue, the invariant checker's
 *   latest verdict (run at most every DASHBOARD_CHECK_EVERY_MS per sale, shared) and the Web UI links.
 * - GET /v1/admin/sales/:saleId/reservations?status=&limit=&cursor=: paged by keyset.
 * - POST /v1/admin/reservations/:id/extend {seconds, reason}: the workflow's `extendHold` update.
 * - POST /v1/admin/reservations/:id/cancel: the workflow's cancel update, as a support action.
 */
export function adminSalesRouter(deps: AdminSalesDeps): Router {
  const router = Router();

  router.get('/v1/admin/sales/:saleId/events', deps.auth.admin, async (req, res) => {
    const sale = await requireSale(deps.sales, req.params.saleId);
    const links = deps.temporalUi ? temporalUiLinks(deps.temporalUi, sale.id) : null;
    const snapshot = (point: SalePoint): AdminSaleSnapshot => ({
      ...point,
      sale: { id: sale.id, name: sale.name, sku: sale.sku, units: sale.units, startsAt: sale.starts_at.toISOString() },
      invariants: deps.verdicts.latest(sale.id) ?? null,
      temporalUi: links,
    });
    const stream = startEventStream(req, res, deps.changeFeed);
    stream.send('history', deps.saleFeed.history(sale.id));
    stream.onClose(deps.saleFeed.subscribe(sale, (point) => stream.send('snapshot', snapshot(point))));
  });

  router.get('/v1/admin/sales/:saleId/reservations', deps.auth.admin, async (req, res) => {
    const saleId = requireUuid(req.params.saleId, 'sale');
    const parsed = listQuery.safeParse(req.query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Problem(400, ErrorCode.InvalidRequest, `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
    }
    if (!(await deps.sales.get(saleId))) throw new Problem(404, ErrorCode.NotFound, 'sale not found');
    const { status, limit, cursor } = parsed.data;
    const page = await listReservations(deps.pool, { saleId, status, limit, ...(cursor && { after: cursor }) });
    res.json({
      items: page.rows.map(toReservationView),
      nextCursor: page.more ? page.rows.at(-1)!.id : null,
    });
  });

  router.post('/v1/admin/reservations/:reservationId/extend', deps.auth.admin, async (req, res) => {
    const reservationId = requireUuid(req.params.reservationId, 'reservation');
    const body = parseBody(extendBody, req.body);
    const reservation = await findReservation(deps.pool, reservationId);
    if (!reservation) throw new Problem(404, ErrorCode.NotFound, 'reservation not found');
    requireHeld(reservation, 'extended');
    await ensureWorkflowStarted(deps.workflows, reservation);
    const answer = await deps.workflows.extendHold(reservation.id, { seconds: body.seconds, by: 'admin', reason: body.reason });
    if (!answer.ok) throw new Problem(409, answer.code, `the hold was not extended: ${answer.message}`);
    const after = (await findReservation(deps.pool, reservation.id)) ?? reservation;
    res.json({ ...toReservationView(after), expiresAt: new Date(answer.expiresAtMs).toISOString() });
  });

  router.post('/v1/admin/reservations/:reservationId/cancel', deps.auth.admin, async (req, res) => {
    const reservationId = requireUuid(req.params.reservationId, 'reservation');
    const reservation = await findReservation(deps.pool, reservationId);
    if (!reservation) throw new Problem(404, ErrorCode.NotFound, 'reservation not found');
    res.json(toReservationView(await cancelHeldReservation(deps, reservation)));
  });

  return router;
}
