import { createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import type { Pool } from 'pg';
import { joinQueue, queuePosition, solveChallenge, type QueueTicket } from '../../clients/waiting-room-client';
import { hasLeadingZeroBits } from '../../domain/waiting-room';
import { shuffledQueue } from '../../db/pre-queue-shuffle';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor, type SaleAnswer } from '../helpers/sales';

let app: AppUnderTest;
let api: ApiClient;
let db: Pool;

beforeAll(async () => {
  ({ app, api, db } = await startIntegrationApp({}, 128));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api, db });
});

interface Room {
  admitPerSecond: number;
  admissionSeconds?: number;
  powDifficulty?: number;
}

async function roomSale(room: Room, overrides: Parameters<typeof createTestSale>[1] = {}): Promise<SaleAnswer> {
  const answer = await api.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'XPHONE-15',
      name: 'XPhone 15',
      units: 10,
      priceCents: 99_900,
      currency: 'EUR',
      ...overrides,
      waitingRoom: room,
    },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

const claim = (saleId: string, token: string, ticket?: string) =>
  api.post(`/v1/sales/${saleId}/reservations`, { token, headers: ticket ? { 'queue-ticket': ticket } : {} });
const me = (saleId: string, token: string) => api.get(`/v1/sales/${saleId}/queue/me`, token);
const challengeFor = (saleId: string, token: string) =>
  api.get<{ challenge: string; difficulty: number; expiresAt: string }>(`/v1/sales/${saleId}/challenge`, token);
const join = (saleId: string, token: string, body: unknown) => api.post(`/v1/sales/${saleId}/queue`, { token, body });
const audit = (saleId: string) => api.get<AuditView>(`/v1/admin/sales/${saleId}/queue/audit`, TEST_SECRETS.ADMIN_TOKEN);

interface AuditView {
  shuffle: { seed: string | null; members: string[]; order: string[] };
  serving: number;
  assigned: number;
  tickets: number;
}

/** A nonce that does NOT solve the challenge (the solver's first answer is one that does). */
function wrongNonce(challenge: string, difficulty: number): string {
  for (let i = 0; ; i++) {
    const nonce = `wrong-${i}`;
    if (!hasLeadingZeroBits(createHash('sha256').update(`${challenge}:${nonce}`).digest(), difficulty)) return nonce;
  }
}

const admitted = (saleId: string, token: string, timeoutMs = 30_000) =>
  waitFor(
    () => me(saleId, token),
    (a) => a.body.status === 'admitted',
    timeoutMs,
    'admission',
  );

test('a sale without a waiting room has none: no challenge, claims as before', async () => {
  const sale = await createTestSale(api, { units: 1 });
  const token = await shopperToken(`plain-${sale.id}`);
  expect((await challengeFor(sale.id, token)).status).toBe(404);
  expect(sale).not.toHaveProperty('waitingRoom');
  expect((await claim(sale.id, token)).status).toBe(201);
});

test('the sale shows its waiting room, with defaults filled in; bad settings are a 400', async () => {
  const sale = await roomSale({ admitPerSecond: 3 });
  expect(sale).toMatchObject({ waitingRoom: { admitPerSecond: 3, admissionSeconds: 120, powDifficulty: 12 } });
  expect((await api.get(`/v1/sales/${sale.id}`)).body).toMatchObject({ waitingRoom: { admitPerSecond: 3 } });
  for (const waitingRoom of [
    {},
    { admitPerSecond: 0 },
    { admitPerSecond: 1, powDifficulty: 40 },
    { admitPerSecond: 1, extra: 1 },
  ]) {
    const answer = await api.post('/v1/sales', {
      token: TEST_SECRETS.ADMIN_TOKEN,
      body: { sku: 'X', name: 'X', units: 1, priceCents: 1, currency: 'EUR', waitingRoom },
    });
    expect([JSON.stringify(waitingRoom), answer.status, answer.body.type]).toEqual([
      JSON.stringify(waitingRoom),
      400,
      'https://flash-sale.example/problems/invalid-request',
    ]);
  }
});

test('challenge, queue, ticket, position and the claim gate; skipped, wrong, foreign, replayed and forged all refused', async () => {
  const sale = await roomSale({ admitPerSecond: 5, powDifficulty: 8 }, { units: 3 });
  const alice = await shopperToken(`alice-${sale.id}`);
  const bob = await shopperToken(`bob-${sale.id}`);

  // Skipping the queue: no ticket, no claim; no ticket yet, no position.
  const skipped = await claim(sale.id, alice);
  expect(skipped.status).toBe(403);
  expect(skipped.contentType).toContain('application/problem+json');
  expect(skipped.body).toMatchObject({ type: 'https://flash-sale.example/problems/not-admitted', position: null });
  expect((await me(sale.id, alice)).status).toBe(404);

  const issued = await challengeFor(sale.id, alice);
  expect(issued.status).toBe(200);
  expect(issued.body.difficulty).toBe(8);
  expect(Date.parse(issued.body.expiresAt)).toBeGreaterThan(Date.now());
  const { challenge, difficulty } = issued.body;

  const refusals = [
    await join(sale.id, alice, { challenge }),
    await join(sale.id, alice, { challenge, nonce: wrongNonce(challenge, difficulty) }),
    await join(sale.id, alice, { challenge: `x${challenge}`, nonce: '0' }),
    await join(sale.id, alice, { challenge: challenge.split('.')[0], nonce: '0' }),
  ];
  expect(refusals.map((r) => r.status)).toEqual([400, 400, 400, 400]);
  expect(refusals.slice(1).map((r) => r.body.type)).toEqual(
    Array(3).fill('https://flash-sale.example/problems/invalid-challenge'),
  );

  const nonce = await solveChallenge(challenge, difficulty);
  // Bob cannot spend Alice's challenge, even solved.
  const foreign = await join(sale.id, bob, { challenge, nonce });
  expect([foreign.status, foreign.body.detail]).toEqual([400, expect.stringContaining('another shopper')]);

  const first = await join(sale.id, alice, { challenge, nonce });
  expect(first.status).toBe(201);
  const ticket = first.body as unknown as QueueTicket;
  expect(ticket).toMatchObject({ saleId: sale.id, ticketId: expect.any(String), ticket: expect.any(String) });

  const replayed = await join(sale.id, alice, { challenge, nonce });
  expect([replayed.status, replayed.body.detail]).toEqual([400, expect.stringContaining('used already')]);

  // A fresh solution by the same shopper: the same ticket, 200.
  const again = await joinQueue(app.apiUrl, sale.id, alice);
  expect(again.ticketId).toBe(ticket.ticketId);
  const { rows } = await db.query('select count(*)::int as n from queue_tickets where sale_id = $1', [sale.id]);
  expect(rows[0].n).toBe(1);

  const view = (await admitted(sale.id, alice)).body;
  expect(view).toMatchObject({ status: 'admitted', position: 1, ahead: 0, ticketId: ticket.ticketId });
  expect(Date.parse(view.admittedUntil as string)).toBeGreaterThan(Date.now() + 100_000);

  // Forged (wrong key), shared (Bob sends Alice's), foreign sale: refused the same way.
  const forged = await new SignJWT({ sale: sale.id })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(`alice-${sale.id}`)
    .setJti(ticket.ticketId)
    .setAudience('queue-ticket')
    .sign(new TextEncoder().encode('not-the-queue-secret-0123456789abcdef'));
  const other = await roomSale({ admitPerSecond: 5, powDifficulty: 4 }, { units: 1 });
  const refused = [
    await claim(sale.id, alice, forged),
    await claim(sale.id, alice, 'not.a.jwt'),
    await claim(sale.id, bob, ticket.ticket),
    await claim(other.id, alice, ticket.ticket),
  ];
  expect(refused.map((r) => [r.status, r.body.type])).toEqual(
    Array(4).fill([403, 'https://flash-sale.example/problems/not-admitted']),
  );
  const { rows: held } = await db.query('select count(*)::int as n from reservations where sale_id in ($1, $2)', [
    sale.id,
    other.id,
  ]);
  expect(held[0].n).toBe(0);

  const claimed = await claim(sale.id, alice, ticket.ticket);
  expect(claimed.status).toBe(201);

  const report = await api.get(`/v1/admin/sales/${sale.id}/invariants`, TEST_SECRETS.ADMIN_TOKEN);
  expect(report.body.violations).toEqual([]);
});

test('a waiting shopper is refused with their position; the admission rate holds', async () => {
  // One unit can be claimed at a time per admission: 1 admitted per second, 12 units, 6 shoppers.
  const sale = await roomSale({ admitPerSecond: 1, powDifficulty: 4 }, { units: 12 });
  const tokens = await Promise.all(Array.from({ length: 6 }, (_, i) => shopperToken(`rate-${sale.id}-${i}`)));
  const tickets: QueueTicket[] = [];
  for (const token of tokens) tickets.push(await joinQueue(app.apiUrl, sale.id, token));
  const last = tokens.length - 1;
  const early = await waitFor(
    () => me(sale.id, tokens[last]!),
    (a) => a.body.position !== null,
    15_000,
    'position',
  );
  expect(early.body.position).toBe(6);
  const refusal = await claim(sale.id, tokens[last]!, tickets[last]!.ticket);
  expect([refusal.status, refusal.body]).toEqual([403, expect.objectContaining({ position: 6, queueStatus: 'waiting' })]);
  const started = Date.now();
  await admitted(sale.id, tokens[last]!, 30_000);
  const seconds = (Date.now() - started) / 1000;
  // Six admissions at one per second cannot all happen in under four seconds.
  expect(seconds).toBeGreaterThan(3);
  const a = (await audit(sale.id)).body;
  expect(a.serving).toBeLessThanOrEqual(a.assigned);
});

test('the pre-queue is shuffled by a recorded seed anyone can re-derive; later arrivals queue FIFO', async () => {
  const startsAt = new Date(Date.now() + 8_000).toISOString();
  const sale = await roomSale({ admitPerSecond: 50, powDifficulty: 4 }, { units: 200, startsAt });
  const early = await Promise.all(Array.from({ length: 40 }, (_, i) => shopperToken(`pre-${sale.id}-${i}`)));
  const preTickets: QueueTicket[] = [];
  for (const token of early) preTickets.push(await joinQueue(app.apiUrl, sale.id, token));
  // Before the start: a ticket, no position, and no claim (the sale has not started).
  expect((await me(sale.id, early[0]!)).body).toMatchObject({ status: 'waiting', position: null });
  expect((await claim(sale.id, early[0]!, preTickets[0]!.ticket)).status).toBe(425);

  const shuffled = await waitFor(
    () => audit(sale.id),
    (a) => a.body.shuffle.seed !== null,
    30_000,
    'shuffle',
  );
  const { seed, members, order } = shuffled.body.shuffle;
  expect(members).toEqual(preTickets.map((t) => t.ticketId).sort());
  expect(shuffledQueue(seed!, members)).toEqual(order);
  // Positions are the recorded order.
  const place = await queuePosition(app.apiUrl, sale.id, early[0]!);
  expect(order[place.position! - 1]).toBe(preTickets[0]!.ticketId);

  const late = await Promise.all(Array.from({ length: 10 }, (_, i) => shopperToken(`post-${sale.id}-${i}`)));
  for (const token of late) await joinQueue(app.apiUrl, sale.id, token);
  const positions: number[] = [];
  for (const token of late) {
    const view = await waitFor(
      () => queuePosition(app.apiUrl, sale.id, token),
      (v) => v.position !== null,
      15_000,
      'late position',
    );
    positions.push(view.position!);
  }
  expect(positions).toEqual(Array.from({ length: 10 }, (_, i) => 41 + i));
});

test('admission pauses while nothing can be claimed and resumes when a unit comes back', async () => {
  const sale = await roomSale({ admitPerSecond: 10, admissionSeconds: 60, powDifficulty: 4 }, { units: 2, holdSeconds: 10 });
  const tokens = await Promise.all(Array.from({ length: 4 }, (_, i) => shopperToken(`pause-${sale.id}-${i}`)));
  const tickets: QueueTicket[] = [];
  for (const token of tokens) tickets.push(await joinQueue(app.apiUrl, sale.id, token));
  // Two units: the first two are admitted, then nothing more while they may still claim.
  const byPosition = async () => {
    const views = await Promise.all(tokens.map((t) => queuePosition(app.apiUrl, sale.id, t)));
    return views.map((v, i) => ({ ...v, i })).sort((x, y) => (x.position ?? 0) - (y.position ?? 0));
  };
  await waitFor(byPosition, (v) => v.filter((x) => x.status === 'admitted').length === 2, 20_000, 'two admitted');
  const order = await byPosition();
  const [first, second, third, fourth] = order.map((v) => v.i);
  for (const i of [first!, second!]) expect((await claim(sale.id, tokens[i]!, tickets[i]!.ticket)).status).toBe(201);
  // Sold out (both held): the third stays waiting (2 s here, well inside the 10 s holds).
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  expect((await queuePosition(app.apiUrl, sale.id, tokens[third!]!)).status).toBe('waiting');
  expect((await audit(sale.id)).body.serving).toBe(2);
  // The holds expire after 10 s: two units come back, the next two are admitted and claim.
  await admitted(sale.id, tokens[third!]!, 30_000);
  await admitted(sale.id, tokens[fourth!]!, 30_000);
  // The claim may meet the expiry's release a moment before the unit is back: retry briefly.
  for (const i of [third!, fourth!]) {
    const answer = await waitFor(
      () => claim(sale.id, tokens[i]!, tickets[i]!.ticket),
      (a) => a.status === 201,
      10_000,
      'claim after resume',
    );
    expect(answer.status).toBe(201);
  }
  const report = await api.get(`/v1/admin/sales/${sale.id}/invariants`, TEST_SECRETS.ADMIN_TOKEN);
  expect(report.body.violations).toEqual([]);
});

test('kill -9 of the worker and of the API during admission loses no ticket and admits nobody twice', async () => {
  const sale = await roomSale({ admitPerSecond: 2, powDifficulty: 4 }, { units: 20 });
  const tokens = await Promise.all(Array.from({ length: 12 }, (_, i) => shopperToken(`crash-${sale.id}-${i}`)));
  const tickets: QueueTicket[] = [];
  for (const token of tokens) tickets.push(await joinQueue(app.apiUrl, sale.id, token));
  await waitFor(
    () => audit(sale.id),
    (a) => a.body.serving >= 2,
    20_000,
    'first admissions',
  );

  await app.worker.kill9();
  await app.api.kill9();
  const frozen = (await db.query('select serving from waiting_rooms where sale_id = $1', [sale.id])).rows[0].serving as number;
  app.worker.start();
  app.api.start();
  await waitFor(
    () => api.get('/readyz').catch(() => ({ status: 0 })),
    (a) => a.status === 200,
    60_000,
    'api back',
  );

  // Every ticket is still there, in the same place, and the queue moves on to the end.
  const done = await waitFor(
    () => audit(sale.id),
    (a) => a.body.serving === 12,
    60_000,
    'everyone admitted after the restarts',
  );
  expect(done.body).toMatchObject({ tickets: 12, assigned: 12 });
  expect(frozen).toBeLessThan(12);
  for (const [i, token] of tokens.entries()) {
    const view = await queuePosition(app.apiUrl, sale.id, token);
    expect([view.ticketId, view.status]).toEqual([tickets[i]!.ticketId, 'admitted']);
  }
  expect((await claim(sale.id, tokens[0]!, tickets[0]!.ticket)).status).toBe(201);
  const report = await api.get(`/v1/admin/sales/${sale.id}/invariants`, TEST_SECRETS.ADMIN_TOKEN);
  expect(report.body.violations).toEqual([]);
}, 180_000);

test('queue/me answers the same from the fast path as from Express, for a waiting and an admitted shopper', async () => {
  // One unit: the first shopper is admitted, the second waits behind an admission that is still running.
  const sale = await roomSale({ admitPerSecond: 1, admissionSeconds: 600, powDifficulty: 0 }, { units: 1 });
  const [first, second] = await Promise.all([shopperToken(`fast-a-${sale.id}`), shopperToken(`fast-b-${sale.id}`)]);
  await joinQueue(app.apiUrl, sale.id, first!);
  await joinQueue(app.apiUrl, sale.id, second!);
  await admitted(sale.id, first!);
  await waitFor(
    () => me(sale.id, second!),
    (a) => a.body.position === 2,
    15_000,
    'position',
  );
  const fastAnswers = async () =>
    Number(/^queue_me_fast_path_total (\d+)/m.exec(await (await fetch(`${app.apiUrl}/metrics`)).text())?.[1] ?? 0);
  const poll = async (token: string, path: string) => {
    const response = await fetch(`${app.apiUrl}${path}`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': 'same-id' },
    });
    const headers = Object.fromEntries(
      [...response.headers].filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name)),
    );
    return { status: response.status, headers, body: await response.text() };
  };
  for (const token of [first!, second!]) {
    const path = `/v1/sales/${sale.id}/queue/me`;
    let fast: Awaited<ReturnType<typeof poll>> | undefined;
    // The fast path needs the place cached and a fresh counter: the poll right after an Express poll has both.
    for (let attempt = 0; attempt < 20 && !fast; attempt++) {
      await poll(token, path);
      const before = await fastAnswers();
      const answer = await poll(token, path);
      if ((await fastAnswers()) === before + 1) fast = answer;
    }
    expect(fast).toBeDefined();
    // A trailing slash matches the same Express route but not the fast path.
    const viaExpress = await poll(token, `${path}/`);
    expect(fast).toEqual(viaExpress);
    expect(JSON.parse(fast!.body)).toMatchObject({ status: token === first ? 'admitted' : 'waiting' });
  }
  // A token nobody verified yet is answered by Express, with Express's refusal.
  const stranger = await poll(await shopperToken(`fast-c-${sale.id}`), `/v1/sales/${sale.id}/queue/me`);
  expect([stranger.status, JSON.parse(stranger.body).type]).toEqual([404, expect.stringContaining('not-found')]);
});

test('joins arriving together share inserts: one ticket per shopper, the same ticket again, a challenge spent once', async () => {
  const sale = await roomSale({ admitPerSecond: 1, powDifficulty: 0 }, { units: 1 });
  const tokens = await Promise.all(Array.from({ length: 60 }, (_, i) => shopperToken(`batch-${sale.id}-${i}`)));
  const challenges = await Promise.all(tokens.map(async (token) => (await challengeFor(sale.id, token)).body.challenge));
  const twice = await challengeFor(sale.id, tokens[0]!);
  // Everyone at once; the first shopper also with a second challenge, the second shopper's challenge sent twice.
  const answers = await Promise.all([
    ...tokens.map((token, i) => join(sale.id, token, { challenge: challenges[i], nonce: '0' })),
    join(sale.id, tokens[0]!, { challenge: twice.body.challenge, nonce: '0' }),
    join(sale.id, tokens[1]!, { challenge: challenges[1], nonce: '1' }),
  ]);
  const [own, again] = [answers[0]!, answers[60]!];
  expect([own.status, again.status].sort()).toEqual([200, 201]);
  expect(again.body.ticketId).toBe(own.body.ticketId);
  const replays = [answers[1]!, answers[61]!];
  expect(replays.map((a) => a.status).sort()).toEqual([201, 400]);
  expect(answers.slice(2, 60).every((a) => a.status === 201)).toBe(true);
  const ids = new Set(answers.filter((a) => a.status === 201).map((a) => a.body.ticketId));
  expect(ids.size).toBe(60);
  const rows = await db.query<{ n: number }>('select count(*)::int as n from queue_tickets where sale_id = $1', [sale.id]);
  expect(rows.rows[0]!.n).toBe(60);
});

test('an admission this process has seen is still refused once it has run out', async () => {
  const sale = await roomSale({ admitPerSecond: 5, admissionSeconds: 12, powDifficulty: 0 }, { units: 2 });
  const token = await shopperToken(`runs-out-${sale.id}`);
  const ticket = await joinQueue(app.apiUrl, sale.id, token);
  const view = (await admitted(sale.id, token)).body as { admittedUntil: string };
  // Polled admitted (so the API holds the row); claim only after the admission's end.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(view.admittedUntil) - Date.now()) + 1_000));
  expect((await me(sale.id, token)).body).toMatchObject({ status: 'expired' });
  const refusal = await claim(sale.id, token, ticket.ticket);
  expect([refusal.status, refusal.body]).toEqual([403, expect.objectContaining({ queueStatus: 'expired' })]);
});
