import { randomInt } from 'node:crypto';
import type { Pool } from 'pg';
import { claimUnit, type ClaimResult } from '../../db/queries/claim-unit';
import { claimUnits, PartlyClaimedError, type BatchClaimRequest } from '../../db/queries/claim-units';
import { SqlState, sqlStateOf } from '../../db/sqlstate';

export interface BatchedClaim extends BatchClaimRequest {
  saleId: string;
  holdSeconds: number;
  stripes: number;
  /** Asked when the claim's statement is about to be sent: true answers no-unit without asking Postgres. */
  giveUp?: () => boolean;
}

export interface ClaimBatcherOptions {
  /** Claims of one sale in one statement at most. */
  maxBatch: number;
  /** Claim statements of one sale in flight at once; claims arriving meanwhile wait and go together. */
  maxInFlight: number;
  /**
   * A claim still queued after this long fails with ClaimQueueTimeoutError (answered 503) instead of
   * going out: the bound a claim had waiting for a pooled connection (db/pool.ts) before batching.
   */
  maxWaitMs: number;
}

export const DEFAULT_BATCHING: ClaimBatcherOptions = { maxBatch: 64, maxInFlight: 2, maxWaitMs: 5_000 };

/** The database did not take a claim in time: a retry may succeed. */
export class ClaimQueueTimeoutError extends Error {
  constructor(waitedMs: number) {
    super(`the claim waited ${Math.round(waitedMs)} ms for its turn at the database`);
    this.name = 'ClaimQueueTimeoutError';
  }
}

interface Waiting {
  claim: BatchedClaim;
  since: number;
  resolve: (result: ClaimResult) => void;
  reject: (error: unknown) => void;
}

interface SaleLane {
  inFlight: number;
  waiting: Waiting[];
  /** Shoppers with a claim in a statement in flight: their next claim waits until it has committed. */
  busy: Set<string>;
}

/*
 * Request coalescing for claims. A claim goes out at once while fewer than `maxInFlight`
 * statements of its sale are in flight, so a lone claim waits for nothing; claims that arrive
 * while they are all busy queue, and the next statement claims for up to `maxBatch` of them at
 * once (db/queries/claim-units.ts). Every claim's promise settles only after its statement
 * committed (autocommit), so an answer never names a row that could still roll back.
 *
 * A shopper at most once in flight: a second claim of the same shopper waits until the statement
 * carrying the first has committed, then finds its reservation, exactly as if the two had run one
 * after the other. A statement failing on a unique violation (a shopper racing themselves through
 * another process) rolls back whole; its claims are then made one by one (db/queries/claim-unit.ts),
 * so only the racing claim sees the violation.
 */
export class ClaimBatcher {
  private readonly lanes = new Map<string, SaleLane>();

  constructor(
    private readonly pool: Pool,
    private readonly options: ClaimBatcherOptions = DEFAULT_BATCHING,
  ) {}

  claim(claim: BatchedClaim): Promise<ClaimResult> {
    return new Promise<ClaimResult>((resolve, reject) => {
      let lane = this.lanes.get(claim.saleId);
      if (!lane) {
        lane = { inFlight: 0, waiting: [], busy: new Set() };
        this.lanes.set(claim.saleId, lane);
      }
      lane.waiting.push({ claim, since: performance.now(), resolve, reject });
      this.dispatch(claim.saleId, lane);
    });
  }

  private dispatch(saleId: string, lane: SaleLane): void {
    while (lane.inFlight < this.options.maxInFlight && lane.waiting.length > 0) {
      const batch = this.take(lane);
      // Nothing to send: the claims left (if any) wait for their shopper's statement in flight.
      if (batch.length === 0) break;
      lane.inFlight++;
      void this.send(batch).finally(() => {
        lane.inFlight--;
        for (const { claim } of batch) lane.busy.delete(claim.userId);
        this.dispatch(saleId, lane);
      });
    }
    if (lane.inFlight === 0 && lane.waiting.length === 0) this.lanes.delete(saleId);
  }

  /** Up to maxBatch waiting claims of distinct shoppers not in flight, in arrival order; the rest stay queued. */
  private take(lane: SaleLane): Waiting[] {
    const batch: Waiting[] = [];
    const rest: Waiting[] = [];
    const now = performance.now();
    for (const waiting of lane.waiting) {
      if (now - waiting.since > this.options.maxWaitMs) {
        waiting.reject(new ClaimQueueTimeoutError(now - waiting.since));
      } else if (batch.length >= this.options.maxBatch || lane.busy.has(waiting.claim.userId)) {
        rest.push(waiting);
      } else if (waiting.claim.giveUp?.()) {
        waiting.resolve({ kind: 'no-unit' });
      } else {
        lane.busy.add(waiting.claim.userId);
        batch.push(waiting);
      }
    }
    lane.waiting = rest;
    return batch;
  }

  private async send(batch: Waiting[]): Promise<void> {
    const first = batch[0]!.claim;
    try {
      const results =
        batch.length === 1
          ? [await claimUnit(this.pool, { ...first, startStripe: randomInt(first.stripes) })]
          : await claimUnits(this.pool, {
              saleId: first.saleId,
              holdSeconds: first.holdSeconds,
              stripes: first.stripes,
              startStripe: randomInt(first.stripes),
              requests: batch.map(({ claim }) => claim),
            });
      batch.forEach((waiting, index) => waiting.resolve(results[index]!));
    } catch (failure) {
      // Claims an earlier statement of the batch committed keep their answer.
      const settled = failure instanceof PartlyClaimedError ? failure.settled : new Map<number, ClaimResult>();
      const error = failure instanceof PartlyClaimedError ? failure.failure : failure;
      const unsettled = batch.filter((waiting, index) => {
        const result = settled.get(index);
        if (result) waiting.resolve(result);
        return !result;
      });
      if (batch.length === 1 || sqlStateOf(error) !== SqlState.UniqueViolation) {
        unsettled.forEach((waiting) => waiting.reject(error));
        return;
      }
      await Promise.all(
        unsettled.map(({ claim, resolve, reject }) =>
          claimUnit(this.pool, { ...claim, startStripe: randomInt(claim.stripes) }).then(resolve, reject),
        ),
      );
    }
  }
}

const batchers = new WeakMap<Pool, ClaimBatcher>();

/** The one batcher of a pool: every claim through that pool coalesces with the others. */
export function claimBatcherFor(pool: Pool): ClaimBatcher {
  let batcher = batchers.get(pool);
  if (!batcher) {
    batcher = new ClaimBatcher(pool);
    batchers.set(pool, batcher);
  }
  return batcher;
}
