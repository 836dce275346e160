import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import { retentionScheduleId, type RetentionPurgeInput } from '../domain/retention';
import type { retentionPurgeWorkflow } from '../workflows';

export interface RetentionScheduleSettings {
  taskQueue: string;
  everyMinutes: number;
  input: RetentionPurgeInput;
}

/*
 * The purge's schedule. SKIP: a run still going when the next is due makes that one skipped, so
 * two never delete side by side. A catch-up window of 5 minutes: after an outage the schedule runs
 * once at most, not once per missed interval. A run is bounded (30 minutes in all); one that fails
 * is not paused on: the next interval tries again.
 */
function scheduleOptions(
  settings: RetentionScheduleSettings,
): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof retentionPurgeWorkflow>> {
  const scheduleId = retentionScheduleId(settings.taskQueue);
  return {
    scheduleId,
    spec: { intervals: [{ every: `${settings.everyMinutes} minutes` }] },
    action: {
      type: 'startWorkflow',
      workflowType: 'retentionPurgeWorkflow',
      workflowId: scheduleId,
      taskQueue: settings.taskQueue,
      args: [settings.input],
      workflowExecutionTimeout: '30 minutes',
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '5 minutes', pauseOnFailure: false },
  };
}

/**
 * Creates the retention purge's schedule, or brings an existing one in line with these settings.
 * Every worker calls it at start-up; the last to start wins, and workers of one deployment agree.
 */
export async function ensureRetentionSchedule(client: Client, settings: RetentionScheduleSettings): Promise<string> {
  const { scheduleId, spec, action, policies } = scheduleOptions(settings);
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ spec, action, policies, state: previous.state }));
  }
  return scheduleId;
}
