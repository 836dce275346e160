/*
 * The floor: the least a reservation can ask of Temporal (issue 21) — started, one update (the
 * payment), one activity (the charge), completed. bench/floor.ts drives it against the same
 * server as ours and reports ours ÷ this.
 */
import { condition, proxyActivities, setHandler } from '@temporalio/workflow';
import type * as activities from './activities';
import { floorPaymentUpdate } from './shared';

const { charge } = proxyActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });

export async function floorWorkflow(): Promise<string> {
  let paymentMethod: string | undefined;
  setHandler(floorPaymentUpdate, (method) => {
    paymentMethod = method;
    return 'accepted';
  });
  await condition(() => paymentMethod !== undefined);
  return charge(paymentMethod!);
}
