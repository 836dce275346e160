import type { Pool } from 'pg';
import { admitStep, shufflePreQueue } from '../db/queries/admission';
import type { AdmissionTickResult } from '../domain/waiting-room';

/** The admission workflow's database steps (workflows/admission-workflow.ts); each is one short transaction and idempotent. */
export function createAdmissionActivities({ pool }: { pool: Pool }) {
  return {
    /** Orders the pre-queue once the sale has started; false (retry later) before that. */
    async shufflePreQueue({ saleId }: { saleId: string }): Promise<{ shuffled: boolean }> {
      return { shuffled: await shufflePreQueue(pool, saleId) };
    },
    /** `stepKey`: the tick's workflow time; a retry with the same key admits nobody twice (db/queries/admission.ts). */
    async admitStep({
      saleId,
      budget,
      stepKey,
    }: {
      saleId: string;
      budget: number;
      stepKey?: number;
    }): Promise<AdmissionTickResult> {
      return admitStep(pool, saleId, budget, stepKey);
    },
  };
}
