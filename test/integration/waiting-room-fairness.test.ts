import type { Pool } from 'pg';
import { joinQueue, type QueueTicket } from '../../clients/waiting-room-client';
import { queueViolations } from '../../db/queries/queue-tickets';
import { shuffledQueue } from '../../db/pre-queue-shuffle';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { waitFor } from '../helpers/sales';

/*
 * Fairness with a crowd of scripted shoppers: PRE_QUEUE join before the start (through the shopper
 * client, proof of work included), LATE join after it one by one. Whatever order they arrived in,
 * the pre-queue's positions must look random (rank correlation with arrival order within what
 * chance allows), the late ones strictly FIFO behind, nobody admitted twice or skipped, and no
 * admission step faster than admitPerSecond.
 */
const PRE_QUEUE = 2_000;
const LATE = 100;
const ADMIT_PER_SECOND = 100;

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({ apiEnv: { RATE_LIMIT_QUEUE_PER_SHOPPER: '0' } }, 64));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

/** Spearman's rank correlation of two rankings of the same n items (no ties). */
function spearman(a: number[], b: number[]): number {
  const n = a.length;
  const rank = (xs: number[]) => {
    const order = xs.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const ranks = new Array<number>(n);
    order.forEach(([, i], r) => (ranks[i] = r));
    return ranks;
  };
  const ra = rank(a);
  const rb = rank(b);
  const d2 = ra.reduce((sum, r, i) => sum + (r - rb[i]!) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

async function inLanes<T>(count: number, lanes: number, work: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await work(i);
      }
    }),
  );
  return results;
}

test(`${PRE_QUEUE} pre-queue shoppers are shuffled fairly, ${LATE} late ones queue FIFO, admission keeps its rate`, async () => {
  const startsAt = new Date(Date.now() + 40_000);
  const created = await api.post<{ id: string }>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'XPHONE-15',
      name: 'XPhone 15',
      units: 5_000,
      priceCents: 99_900,
      currency: 'EUR',
      startsAt: startsAt.toISOString(),
      waitingRoom: { admitPerSecond: ADMIT_PER_SECOND, powDifficulty: 2 },
    },
  });
  expect(created.status).toBe(201);
  const saleId = created.body.id;
  const tokens = await Promise.all(Array.from({ length: PRE_QUEUE }, (_, i) => shopperToken(`fair-${saleId}-${i}`)));
  const joinStarted = performance.now();
  const tickets: QueueTicket[] = await inLanes(PRE_QUEUE, 32, (i) => joinQueue(app.apiUrl, saleId, tokens[i]!));
  console.log(`${PRE_QUEUE} joins (32 lanes, difficulty 2) in ${Math.round(performance.now() - joinStarted)} ms`);
  expect(Date.now()).toBeLessThan(startsAt.getTime());
  expect(new Set(tickets.map((t) => t.ticketId)).size).toBe(PRE_QUEUE);

  await waitFor(
    () => db.query('select shuffle_seed from waiting_rooms where sale_id = $1', [saleId]),
    (r) => r.rows[0].shuffle_seed !== null,
    90_000,
    'shuffle',
  );
  const late = await Promise.all(Array.from({ length: LATE }, (_, i) => shopperToken(`late-${saleId}-${i}`)));
  const lateTickets: QueueTicket[] = [];
  for (const token of late) lateTickets.push(await joinQueue(app.apiUrl, saleId, token));

  await waitFor(
    () => db.query('select count(*)::int as n from queue_tickets where sale_id = $1 and position is null', [saleId]),
    (r) => r.rows[0].n === 0,
    30_000,
    'every ticket ordered',
  );
  const { rows } = await db.query<{ id: string; arrival: string; position: number }>(
    'select id, arrival, position from queue_tickets where sale_id = $1',
    [saleId],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const pre = tickets.map((t) => byId.get(t.ticketId)!);
  expect(pre.map((r) => r.position).sort((a, b) => a - b)).toEqual(Array.from({ length: PRE_QUEUE }, (_, i) => i + 1));
  const rho = spearman(
    pre.map((r) => Number(r.arrival)),
    pre.map((r) => r.position),
  );
  // Under a uniform shuffle rho has mean 0 and standard deviation 1/sqrt(n-1) (0.022 for 2,000):
  // four of them fail a fair shuffle about once in 16,000 runs.
  const bound = 4 / Math.sqrt(PRE_QUEUE - 1);
  console.log(`pre-queue: Spearman rank correlation of arrival and position = ${rho.toFixed(4)} (bound ±${bound.toFixed(4)})`);
  expect(Math.abs(rho)).toBeLessThan(bound);
  expect(lateTickets.map((t) => byId.get(t.ticketId)!.position)).toEqual(
    Array.from({ length: LATE }, (_, i) => PRE_QUEUE + 1 + i),
  );

  // The recorded seed re-derives every pre-queue position.
  const audit = await api.get<{ shuffle: { seed: string; members: string[]; order: string[] } }>(
    `/v1/admin/sales/${saleId}/queue/audit`,
    TEST_SECRETS.ADMIN_TOKEN,
  );
  expect(audit.body.shuffle.order).toEqual(shuffledQueue(audit.body.shuffle.seed, audit.body.shuffle.members));
  expect(audit.body.shuffle.order.map((id) => byId.get(id)!.position)).toEqual(
    Array.from({ length: PRE_QUEUE }, (_, i) => i + 1),
  );

  // Admission: wait for a few hundred, then check nobody was skipped or admitted twice, and that
  // no step admitted more than the rate allows for the time since the previous one.
  await waitFor(
    () => db.query('select serving from waiting_rooms where sale_id = $1', [saleId]),
    (r) => r.rows[0].serving >= 5 * ADMIT_PER_SECOND,
    60_000,
    'admissions',
  );
  expect(await queueViolations(db, saleId)).toEqual([]);
  const { rows: steps } = await db.query<{ at: Date; admitted: number }>(
    `select admitted_at as at, count(*)::int as admitted from queue_tickets
     where sale_id = $1 and admitted_at is not null group by admitted_at order by admitted_at`,
    [saleId],
  );
  for (let i = 1; i < steps.length; i++) {
    const seconds = (steps[i]!.at.getTime() - steps[i - 1]!.at.getTime()) / 1000;
    // The workflow's clock and the database's differ by the step's own latency: 0.5 s of slack.
    const allowed = ADMIT_PER_SECOND * Math.min(5, seconds + 0.5) + 1;
    expect([i, steps[i]!.admitted <= allowed]).toEqual([i, true]);
  }
  expect(steps[0]!.admitted).toBeLessThanOrEqual(ADMIT_PER_SECOND * 1.5 + 1);
}, 240_000);
