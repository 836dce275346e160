/*
 * Phase `cost`: what one reservation costs Temporal, per path (paid, declined, cancelled,
 * expired). Runs real reservations through the API, waits for each workflow to close, and reads
 * its history length and state-transition count from `temporal workflow describe`.
 */
import { spawnSync } from 'node:child_process';
import { reservationWorkflowId } from '../domain/reservation-workflow-contract';
import { temporalCliPath } from '../scripts/stack/tools';
import { createBenchSale } from './sales';
import { BENCH_SECRETS, type BenchStack } from './stack';
import { httpClient, mintShopperToken, pollUntil, type HttpClient } from './util';

export const COST_PATHS = ['paid', 'declined', 'cancelled', 'expired'] as const;
export type CostPath = (typeof COST_PATHS)[number];

export interface PathCost {
  path: CostPath;
  workflows: number;
  events: { min: number; max: number };
  stateTransitions: { min: number; max: number };
}

export type WorkflowCostResult = PathCost[];

/** One cost phase: which server it ran on, and the cost per path. */
export interface CostRun {
  server: string;
  paths: WorkflowCostResult;
}

interface Described {
  status: string;
  historyLength: number;
  stateTransitionCount: number;
}

function describe(temporalAddress: string, workflowId: string): Described {
  const shown = spawnSync(
    temporalCliPath(),
    ['workflow', 'describe', '--address', temporalAddress, '--workflow-id', workflowId, '--output', 'json'],
    { encoding: 'utf8' },
  );
  if (shown.status !== 0) throw new Error(`temporal workflow describe ${workflowId} failed: ${shown.stderr}`);
  const info = (JSON.parse(shown.stdout) as { workflowExecutionInfo?: Record<string, unknown> }).workflowExecutionInfo ?? {};
  return {
    status: String(info.status ?? 'unknown'),
    historyLength: Number(info.historyLength ?? NaN),
    stateTransitionCount: Number(info.stateTransitionCount ?? NaN),
  };
}

const FINAL: Record<CostPath, string> = { paid: 'paid', declined: 'payment_failed', cancelled: 'cancelled', expired: 'expired' };

/** Takes one reservation down `path` and returns its id once the reservation has its final status. */
async function runPath(client: HttpClient, saleId: string, token: string, path: CostPath): Promise<string> {
  const claim = await client.post(`/v1/sales/${saleId}/reservations`, { token });
  if (claim.status !== 201) throw new Error(`claim answered ${claim.status} ${JSON.stringify(claim.body)}`);
  const id = String(claim.body.id);
  if (path === 'paid' || path === 'declined') {
    const paymentMethod = path === 'paid' ? 'tok_visa' : 'tok_chargeDeclined';
    const payment = await client.post(`/v1/reservations/${id}/payment`, { token, body: { paymentMethod } });
    if (payment.status !== 202) throw new Error(`payment answered ${payment.status} ${JSON.stringify(payment.body)}`);
  } else if (path === 'cancelled') {
    const cancel = await client.post(`/v1/reservations/${id}/cancel`, { token });
    if (cancel.status !== 200) throw new Error(`cancel answered ${cancel.status} ${JSON.stringify(cancel.body)}`);
  }
  const final = await pollUntil(
    () => client.get(`/v1/reservations/${id}`, token),
    (view) => view.body.status === FINAL[path],
    30_000,
  );
  if (!final.ok) throw new Error(`reservation ${id} is ${String(final.value.body.status)}, not ${FINAL[path]}`);
  return id;
}

export async function benchWorkflowCost(
  stack: BenchStack,
  options: { perPath: number; say: (message: string) => void },
): Promise<WorkflowCostResult> {
  const { apiUrl } = await stack.services();
  const client = httpClient(apiUrl, 8, 30_000);
  try {
    const results: WorkflowCostResult = [];
    for (const path of COST_PATHS) {
      // Expired reservations need a short hold; the others a hold they never reach.
      const sale = await createBenchSale(client, { units: options.perPath, holdSeconds: path === 'expired' ? 1 : 300 });
      const ids: string[] = [];
      for (let i = 0; i < options.perPath; i++) {
        const token = await mintShopperToken(BENCH_SECRETS.JWT_SECRET, `cost-${sale.id}-${i}`);
        ids.push(await runPath(client, sale.id, token, path));
      }
      const described: Described[] = [];
      for (const id of ids) {
        // The workflow closes a moment after the reservation's final status (notification, refunds).
        const closed = await pollUntil(
          async () => describe(stack.temporalAddress, reservationWorkflowId(id)),
          (d) => d.status.endsWith('COMPLETED'),
          30_000,
        );
        if (!closed.ok) throw new Error(`workflow of ${id} is ${closed.value.status}`);
        described.push(closed.value);
      }
      const events = described.map((d) => d.historyLength);
      const transitions = described.map((d) => d.stateTransitionCount);
      const cost: PathCost = {
        path,
        workflows: described.length,
        events: { min: Math.min(...events), max: Math.max(...events) },
        stateTransitions: { min: Math.min(...transitions), max: Math.max(...transitions) },
      };
      options.say(
        `${path}: ${cost.events.min}–${cost.events.max} history events, ${cost.stateTransitions.min}–${cost.stateTransitions.max} state transitions (${cost.workflows} workflows)`,
      );
      results.push(cost);
    }
    return results;
  } finally {
    await client.close();
  }
}
