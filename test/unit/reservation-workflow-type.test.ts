import type { Client } from '@temporalio/client';
import { loadApiConfig } from '../../api/config';
import { createReservationWorkflows } from '../../clients/reservation-workflows';
import { RESERVATION_WORKFLOW_TYPE, RESERVATION_WORKFLOW_TYPES } from '../../domain/reservation-workflow-contract';
import * as workflows from '../../workflows';
import { loadWorkerConfig } from '../../worker/config';
import { TEST_SECRETS } from '../helpers/app-under-test';

/** A client whose `workflow.start` only records the type it was asked to start. */
function recordingClient(started: string[]): Client {
  const start = (type: string) => {
    started.push(type);
    return Promise.resolve({});
  };
  return { workflow: { start } } as unknown as Client;
}

const input = { reservationId: 'r1', saleId: 's1', unitId: 1, shopperId: 'alice', expiresAtMs: 0 };

describe('the reservation workflow type', () => {
  test('every selectable type is a workflow the worker registers', () => {
    for (const type of RESERVATION_WORKFLOW_TYPES) expect(typeof (workflows as Record<string, unknown>)[type]).toBe('function');
  });

  test('start() starts the type of its option, the contract default without one', async () => {
    const started: string[] = [];
    await createReservationWorkflows(recordingClient(started), 'q').start(input);
    const chosen = RESERVATION_WORKFLOW_TYPES.at(-1)!;
    await createReservationWorkflows(recordingClient(started), 'q', { reservationWorkflowType: chosen }).start(input);
    expect(started).toEqual([RESERVATION_WORKFLOW_TYPE, chosen]);
  });

  test('API and worker read RESERVATION_WORKFLOW_TYPE, default the contract default, and refuse an unknown type', () => {
    expect(loadApiConfig(TEST_SECRETS).RESERVATION_WORKFLOW_TYPE).toBe(RESERVATION_WORKFLOW_TYPE);
    expect(loadWorkerConfig({}).RESERVATION_WORKFLOW_TYPE).toBe(RESERVATION_WORKFLOW_TYPE);
    expect(() => loadWorkerConfig({ RESERVATION_WORKFLOW_TYPE: 'noSuchWorkflow' })).toThrow(/RESERVATION_WORKFLOW_TYPE/);
  });
});
