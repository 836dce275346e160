import type { Client } from '@temporalio/client';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { startAdmissionWorkflow } from '../clients/admission-workflows';
import { markAdmissionStarted, unstartedAdmissions } from '../db/queries/admission';

export interface AdmissionRelayOptions {
  pool: Pool;
  client: Client;
  taskQueue: string;
  logger: Logger;
  /** Pause between polls. */
  idleMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * Starts the admission workflow of every waiting room the sale creation committed (the
 * `waiting_rooms` row is the outbox): a crash between the sale's commit and the start leaves the
 * row unmarked, and the next pass, in this worker or another, starts it. Starting twice is
 * harmless (the id is never reused).
 */
export function startAdmissionRelay(options: AdmissionRelayOptions): { stop(): Promise<void> } {
  const { pool, client, taskQueue, logger } = options;
  const idleMs = options.idleMs ?? 500;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        for (const room of await unstartedAdmissions(pool, 50)) {
          await startAdmissionWorkflow(client, taskQueue, {
            saleId: room.sale_id,
            startsAtMs: room.starts_at.getTime(),
            admitPerSecond: room.admit_per_second,
            admissionSeconds: room.admission_seconds,
          });
          await markAdmissionStarted(pool, room.sale_id);
          logger.info({ saleId: room.sale_id }, 'admission workflow started');
        }
      } catch (error) {
        logger.warn({ err: error }, 'admission relay pass failed; retrying');
      }
      await sleep(idleMs);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
