import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { findLiveReservation, findReservationByIdempotencyKey } from '../../db/queries/find-reservation';
import { findClaimOfTicket } from '../../db/queries/queue-tickets';
import { claimBatcherFor } from './claim-batcher';
import type { ReservationRow, SaleRow } from '../../db/rows';
import type { SoldOutRegistry } from './sold-out-registry';
import { SqlState, sqlStateOf } from '../../db/sqlstate';
import { noCrashPoints, type CrashPointHook } from '../../domain/crash-points';

export type ClaimOutcome =
  | { kind: 'reserved'; reservation: ReservationRow; replayed: boolean }
  /** `noUnitLeft`: the claim statement itself found no unit (only then may the sale be marked sold out). */
  | { kind: 'sold-out'; noUnitLeft: boolean }
  | { kind: 'already-reserved'; reservationId: string }
  /** The admission was spent by an earlier claim of this shopper, `reservationId`. */
  | { kind: 'admission-spent'; reservationId: string }
  /** The claim statement found the admission over (run out, unconfirmed past its confirm window, given back). */
  | { kind: 'admission-over' };

export interface ClaimDeps {
  pool: Pool;
  soldOut: Pick<SoldOutRegistry, 'isSoldOut'>;
  /** Test harness only (test/helpers/entries/): called once the claim has committed. */
  onCrashPoint?: CrashPointHook;
}

export interface ClaimInput {
  sale: SaleRow;
  shopperId: string;
  idempotencyKey: string | null;
  /** The admitted queue ticket the claim spends, on a sale with a waiting room. */
  queueTicketId?: string | null;
}

/*
 * The claim is one database statement, shared with the claims of the same sale that arrive with
 * it (./claim-batcher.ts). Its workflow is started by the outbox relay (worker/outbox-relay.ts)
 * from the committed row, so the answer does not wait for Temporal and a crash right after the
 * commit cannot orphan the unit. On a waiting-room sale the same statement spends the admission
 * (`queueTicketId`, db/queries/claim-unit.ts): a ticket can be claimed with once.
 */
export async function claimReservation(deps: ClaimDeps, input: ClaimInput): Promise<ClaimOutcome> {
  const { pool, soldOut, onCrashPoint = noCrashPoints } = deps;
  const { sale, shopperId, idempotencyKey } = input;
  const queueTicketId = input.queueTicketId ?? null;

  if (idempotencyKey) {
    const previous = await findReservationByIdempotencyKey(pool, sale.id, shopperId, idempotencyKey);
    if (previous) return { kind: 'reserved', reservation: previous, replayed: true };
  }

  try {
    // Claims arriving together go out together (./claim-batcher.ts). A claim that waited its turn
    // while the sale sold out gives up unsent: the queue of a crowd drains at memory speed once
    // the last unit is gone.
    const result = await claimBatcherFor(pool).claim({
      reservationId: randomUUID(),
      saleId: sale.id,
      userId: shopperId,
      idempotencyKey,
      queueTicketId,
      holdSeconds: sale.hold_seconds,
      stripes: sale.stripes,
      giveUp: () => !idempotencyKey && soldOut.isSoldOut(sale.id),
    });
    if (result.kind === 'claimed') {
      onCrashPoint('after-claim-commit', [sale.id]);
      return { kind: 'reserved', reservation: result.reservation, replayed: false };
    }
    if ((result.kind === 'already-reserved' || result.kind === 'admission-spent') && !idempotencyKey) return result;
    if (result.kind === 'admission-over') return result;
    if (result.kind === 'no-unit') return { kind: 'sold-out', noUnitLeft: true };
  } catch (error) {
    // The same shopper raced themselves; the statement rolled back and the unit with it.
    if (sqlStateOf(error) !== SqlState.UniqueViolation) throw error;
  }
  // This shopper already holds a unit, perhaps through a concurrent request carrying the same
  // Idempotency-Key: then it is a replay, answered like the first.
  if (idempotencyKey) {
    const previous = await findReservationByIdempotencyKey(pool, sale.id, shopperId, idempotencyKey);
    if (previous) return { kind: 'reserved', reservation: previous, replayed: true };
  }
  const live = await findLiveReservation(pool, sale.id, shopperId);
  if (live) return { kind: 'already-reserved', reservationId: live.id };
  // A claim with the same ticket committed first (reservations_one_per_admission) and has ended since.
  const spentBy = queueTicketId && (await findClaimOfTicket(pool, queueTicketId));
  return spentBy ? { kind: 'admission-spent', reservationId: spentBy } : { kind: 'sold-out', noUnitLeft: false };
}
