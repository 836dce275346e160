import { ServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import { isDependencyUnavailable } from '../../api/dependency-errors';

describe('isDependencyUnavailable: what the API answers 503 instead of 500', () => {
  it('counts Temporal failures a retry can cure, including an update whose RPC timed out', () => {
    expect(isDependencyUnavailable(new ServiceError('unavailable'))).toBe(true);
    expect(
      isDependencyUnavailable(
        new WorkflowUpdateRPCTimeoutOrCancelledError('Timeout or cancellation waiting for update', {
          cause: new Error('context deadline exceeded'),
        }),
      ),
    ).toBe(true);
  });

  it('counts Postgres and network codes, not programming errors', () => {
    expect(isDependencyUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('connect EMFILE 127.0.0.1:5432'), { code: 'EMFILE' }))).toBe(true);
    expect(isDependencyUnavailable(Object.assign(new Error('unique violation'), { code: '23505' }))).toBe(false);
    expect(isDependencyUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isDependencyUnavailable('not an error')).toBe(false);
  });
});
