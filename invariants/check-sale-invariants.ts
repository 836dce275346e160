import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import { invariantSnapshot } from '../db/queries/invariant-snapshot';
import { findReservation } from '../db/queries/find-reservation';
import { queueViolations } from '../db/queries/queue-tickets';
import { reservationWorkflowId } from '../domain/reservation-workflow-contract';
import type { InvariantViolation } from '../domain/sale-feed';
import type { Charge, PaymentGateway } from '../payments/gateway';

const OPEN_STATUSES: readonly string[] = ['held', 'payment_pending'];

export type Violation = InvariantViolation;

export interface InvariantReport {
  saleId: string;
  checkedAt: string;
  releasePolicy: string;
  counts: { units: number; available: number; held: number; sold: number; withdrawn: number };
  /** Waitlist sales: shoppers waiting, and entries that were offered a unit. */
  waitlist?: { waiting: number; offered: number };
  reservations: { open: number; paid: number; released: number };
  provider: { captures: number; refunds: number } | 'not checked';
  workflows: { checked: number } | 'not checked';
  violations: Violation[];
}

export interface CheckDeps {
  pool: Pool;
  /** Without it, invariant 6 is checked from the database alone (relay lag and overdue holds). */
  temporal?: Client;
  /**
   * Every gateway, read through the payment contract's `ledger()` (`GET /v1/ledger` at the
   * provider: every charge and refund it made). Without them, invariants 4 and 5 are checked from
   * our records alone.
   */
  gateways?: Pick<PaymentGateway, 'ledger'>[];
  /** How long a claim may wait for the relay to start its workflow, and a hold past its end for its release. */
  graceSeconds?: number;
}

/** Checks the contract's seven invariants for one sale; an empty `violations` means all hold. */
export async function checkSaleInvariants(deps: CheckDeps, saleId: string, now = new Date()): Promise<InvariantReport> {
  const grace = (deps.graceSeconds ?? 60) * 1000;
  const s = await invariantSnapshot(deps.pool, saleId);
  const violations: Violation[] = [];
  const add = (invariant: Violation['invariant'], detail: string) => violations.push({ invariant, detail });

  if (s.units === undefined) throw new Error(`sale ${saleId} does not exist`);
  const { available, held, sold, withdrawn, total } = s.counts;
  if (available + held + sold + withdrawn !== s.units || total !== s.units)
    add(1, `available ${available} + held ${held} + sold ${sold} + withdrawn ${withdrawn} ≠ units ${s.units} (rows ${total})`);
  if (sold > s.units - withdrawn) add(1, `${sold} sold of ${s.units} units, ${withdrawn} of them withdrawn`);
  if (withdrawn > 0 && s.releasePolicy !== 'undersell')
    add(1, `${withdrawn} units withdrawn from a sale whose releasePolicy is ${s.releasePolicy}, not undersell`);
  for (const row of s.mismatchedOffers)
    add(
      7,
      `waitlist entry ${row.entry_id} was offered reservation ${row.reservation_id}, which is not its shopper's waitlist hold`,
    );
  for (const row of s.shoppersWithSeveral) add(2, `shopper ${row.user_id} has ${row.live} live reservations`);
  for (const row of s.soldWithoutOnePaidCapture)
    add(
      3,
      `sold unit ${row.unit_id}: reservation ${row.reservation_id ?? 'none'} is ${row.reservation_status ?? '-'} with ${row.captures} captures`,
    );
  for (const row of s.paidWithoutSoldUnit)
    add(3, `paid reservation ${row.reservation_id} but its unit is ${row.unit_status ?? 'missing'}`);
  for (const row of s.heldUnitsWithoutOpenReservation)
    add(7, `held unit ${row.unit_id} belongs to ${row.reservation_id ?? 'no reservation'} (${row.reservation_status ?? '-'})`);
  for (const row of s.openReservationsWithoutHeldUnit)
    add(7, `open reservation ${row.reservation_id} but its unit is ${row.unit_status ?? 'missing'}`);

  for (const row of s.failedRefunds)
    add(
      4,
      `${row.reservation_status} reservation ${row.reservation_id} has an unrefunded capture ${row.id}: its refund failed (${row.refund_failure})`,
    );

  for (const r of s.openReservations) {
    if (!r.workflow_started_at && now.getTime() - r.created_at.getTime() > grace)
      add(6, `reservation ${r.id} has had no workflow for ${Math.round((now.getTime() - r.created_at.getTime()) / 1000)} s`);
    if (r.status === 'held' && now.getTime() - r.expires_at.getTime() > grace)
      add(
        6,
        `reservation ${r.id} is still held ${Math.round((now.getTime() - r.expires_at.getTime()) / 1000)} s after its hold ended`,
      );
  }
  for (const detail of (await queueViolations(deps.pool, saleId)) ?? []) add('queue', detail);

  let workflowsChecked = 0;
  if (deps.temporal) {
    for (const r of s.openReservations.filter((o) => o.workflow_started_at)) {
      workflowsChecked++;
      const status = await deps.temporal.workflow
        .getHandle(reservationWorkflowId(r.id))
        .describe()
        .then((d) => d.status.name)
        .catch(() => 'NOT_FOUND');
      if (status === 'RUNNING') continue;
      // The snapshot is older than the answer: a workflow ends only after its reservation's final
      // row is committed, so one that ended since the snapshot has left the reservation closed.
      const now = await findReservation(deps.pool, r.id);
      if (now && OPEN_STATUSES.includes(now.status)) add(6, `open reservation ${r.id} but its workflow is ${status}`);
    }
  }

  let provider: InvariantReport['provider'] = 'not checked';
  if (deps.gateways?.length) {
    const ours = new Map(s.reservations.map((r) => [r.id, r]));
    const ledgers = await Promise.all(deps.gateways.map((gateway) => gateway.ledger()));
    const charges: Charge[] = ledgers.flatMap((ledger) => ledger.charges).filter((c) => ours.has(c.reference));
    const recorded = new Map(s.recordedCharges.map((c) => [c.id, c.status]));
    for (const [reference, reservation] of ours) {
      const captured = charges.filter((c) => c.reference === reference && c.status === 'succeeded');
      const madeAnywhere = charges.filter((c) => c.reference === reference && c.status !== 'failed');
      if (madeAnywhere.length > 1)
        add(
          5,
          `reservation ${reference} was charged ${madeAnywhere.length} times: ${madeAnywhere.map((c) => `${c.id}@${c.gateway}`).join(', ')}`,
        );
      if (reservation.status === 'paid' && (captured.length !== 1 || captured[0]!.id !== reservation.charge_id)) {
        add(
          3,
          `paid reservation ${reference} records ${reservation.charge_id}; the provider holds captures [${captured.map((c) => c.id).join(', ')}]`,
        );
      }
      if (reservation.status !== 'paid' && captured.length > 0)
        add(4, `${reservation.status} reservation ${reference} has unrefunded captures ${captured.map((c) => c.id).join(', ')}`);
    }
    for (const charge of charges.filter((c) => c.status === 'refunded')) {
      if (recorded.get(charge.id) !== 'refunded')
        add(4, `refund of ${charge.id} (reservation ${charge.reference}) is not recorded`);
    }
    provider = {
      captures: charges.filter((c) => c.status === 'succeeded').length,
      refunds: charges.filter((c) => c.status === 'refunded').length,
    };
  }

  return {
    saleId,
    checkedAt: now.toISOString(),
    releasePolicy: s.releasePolicy!,
    counts: { units: s.units, available, held, sold, withdrawn },
    ...(s.releasePolicy === 'waitlist' && { waitlist: s.waitlist }),
    reservations: {
      open: s.openReservations.length,
      paid: s.reservations.filter((r) => r.status === 'paid').length,
      released: s.reservations.filter((r) => ['expired', 'cancelled', 'payment_failed'].includes(r.status)).length,
    },
    provider,
    workflows: deps.temporal ? { checked: workflowsChecked } : 'not checked',
    violations,
  };
}
