import { Pool } from 'pg';
import {
  bindGateway,
  countAttempt,
  countRefused,
  failOver,
  moveVoidedCharge,
  reachedAttempts,
} from '../../db/queries/payment-attempts';
import { testInfra } from '../helpers/infra-env';
import { claimedReservation } from '../helpers/workflow-env';

/* The rule that makes failover safe, on the real database: move only while no request can have arrived. */
let db: Pool;
beforeAll(() => {
  db = new Pool({ connectionString: testInfra().databaseUrl, max: 2 });
});
afterAll(async () => {
  await db?.end();
});

test('a charge moves to the secondary only while every attempt at the primary was refused', async () => {
  const refusedOnly = (await claimedReservation(db)).id;
  expect(await bindGateway(db, refusedOnly, 'primary')).toBe('primary');
  await countAttempt(db, refusedOnly);
  await countRefused(db, refusedOnly);
  expect(await failOver(db, refusedOnly, 'primary', 'secondary')).toBe('secondary');
  expect(await bindGateway(db, refusedOnly, 'primary')).toBe('secondary');

  const mayHaveArrived = (await claimedReservation(db)).id;
  await bindGateway(db, mayHaveArrived, 'primary');
  await countAttempt(db, mayHaveArrived); // sent, and then a timeout or a crash: no refusal counted
  await countAttempt(db, mayHaveArrived);
  await countRefused(db, mayHaveArrived);
  expect(await failOver(db, mayHaveArrived, 'primary', 'secondary')).toBe('primary');
});

test('after the primary voided the key, the charge moves even though requests may have reached it; once', async () => {
  const id = (await claimedReservation(db)).id;
  await bindGateway(db, id, 'primary');
  await countAttempt(db, id);
  await countAttempt(db, id);
  await countRefused(db, id);
  expect(await reachedAttempts(db, id)).toBe(1);
  expect(await moveVoidedCharge(db, id, 'primary', 'secondary')).toBe('secondary');
  expect(await reachedAttempts(db, id)).toBe(0); // counts start afresh at the new gateway
  // A stale attempt that also saw the void moves nothing: the charge is already elsewhere.
  await countAttempt(db, id);
  expect(await moveVoidedCharge(db, id, 'primary', 'secondary')).toBe('secondary');
  expect(await reachedAttempts(db, id)).toBe(1);
  expect(await bindGateway(db, id, 'primary')).toBe('secondary');
});
