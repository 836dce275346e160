import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Pool } from 'pg';
import { claimUnit } from '../../db/queries/claim-unit';
import { createSale } from '../../db/queries/create-sale';
import type { ReservationRow } from '../../db/rows';
import { temporalCliPath } from '../../scripts/stack/tools';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflow code bundled once per test file (every bundle is a webpack run). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };

/** A real sale with one real claimed unit, straight through the database queries. */
export async function claimedReservation(pool: Pool, holdSeconds = 300): Promise<ReservationRow> {
  const sale = await createSale(pool, {
    id: randomUUID(),
    sku: 'XPHONE-15',
    name: 'XPhone 15',
    units: 2,
    priceCents: 99_900,
    currency: 'EUR',
    startsAt: new Date(),
    holdSeconds,
    stripes: 1,
  });
  const claim = await claimUnit(pool, {
    reservationId: randomUUID(),
    saleId: sale.id,
    userId: `shopper-${randomUUID()}`,
    idempotencyKey: null,
    holdSeconds,
    stripes: 1,
    startStripe: 0,
  });
  if (claim.kind !== 'claimed') throw new Error(`claim failed: ${claim.kind}`);
  return claim.reservation;
}

/**
 * With RECORD_HISTORIES=1 (`npm run record:histories`), keeps the finished workflow's history
 * as a replay fixture: test/replay checks every later version of the workflow against it. An
 * existing fixture is never overwritten (a history from an older version is the point); the new
 * one is written beside it with the next `-vN` suffix.
 */
export async function recordHistory(address: string, handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  // Through the CLI: historyToJSON inside jest trips over a second copy of the proto module.
  const shown = spawnSync(
    temporalCliPath(),
    ['workflow', 'show', '--address', address, '--workflow-id', handle.workflowId, '--output', 'json'],
    {
      encoding: 'utf8',
    },
  );
  if (shown.status !== 0) throw new Error(`temporal workflow show failed: ${shown.stderr}`);
  const dir = path.resolve(__dirname, '..', 'replay', 'histories');
  mkdirSync(dir, { recursive: true });
  let file = path.join(dir, `${name}.json`);
  for (let version = 2; existsSync(file); version++) file = path.join(dir, `${name}-v${version}.json`);
  writeFileSync(file, shown.stdout);
}
