/*
 * The join fast path (api/join-fast-path.ts) answers a waiting room's challenge and queue join in
 * front of Express; each of its answers must be the one Express gives (a trailing slash takes the
 * same Express route and never the fast path), against the real API process, with CORS on and the
 * per-shopper queue limit counted across both.
 */
import { SignJWT } from 'jose';
import { solveChallenge } from '../../clients/waiting-room-client';
import { SHOPPER_TOKEN_SCOPE } from '../../config/common';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import { TEST_SECRETS, type AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import type { SaleAnswer } from '../helpers/sales';

const LIMIT = 10;
const ALLOWED = 'https://shop.example';
const OTHER = 'https://elsewhere.example';

let app: AppUnderTest;
let api: ApiClient;

beforeAll(async () => {
  ({ app, api } = await startIntegrationApp({
    apiEnv: {
      CORS_ORIGINS: ALLOWED,
      RATE_LIMIT_QUEUE_PER_SHOPPER: String(LIMIT),
      RATE_LIMIT_QUEUE_PER_SHOPPER_WINDOW_MS: '600000',
    },
  }));
});

afterAll(async () => {
  await stopIntegrationApp({ app, api });
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A request as a browser on `origin` sends it; the answer without the headers that differ per connection. */
async function call(
  path: string,
  options: { token?: string; body?: string; contentType?: string; origin?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'x-request-id': 'same-id' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.origin) headers.origin = options.origin;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${app.apiUrl}${path}`, {
    method: options.body === undefined ? 'GET' : 'POST',
    headers,
    ...(options.body !== undefined && { body: options.body }),
  });
  const kept = [...response.headers].filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name));
  return { status: response.status, headers: Object.fromEntries(kept), body: await response.text() };
}

const fastAnswers = async (route: 'challenge' | 'queue') =>
  Number(
    new RegExp(`^join_fast_path_total\\{route="${route}"\\} (\\d+)`, 'm').exec(
      await (await fetch(`${app.apiUrl}/metrics`)).text(),
    )?.[1] ?? 0,
  );

/** `call`, and whether the fast path wrote the answer (its counter moved by one). */
async function counted(route: 'challenge' | 'queue', path: string, options: Parameters<typeof call>[1]) {
  const before = await fastAnswers(route);
  const answer = await call(path, options);
  const moved = (await fastAnswers(route)) - before;
  if (moved > 1) throw new Error(`the fast path's counter moved by ${moved}`);
  return { answer, fast: moved === 1 };
}

/** Headers of answers that differ only in the shopper's remaining budget. */
const withoutBudget = (answer: Answer) => {
  const { ratelimit: _, ...rest } = answer.headers;
  return { ...answer, headers: rest };
};
const problemType = (answer: Answer) => String((JSON.parse(answer.body) as { type?: string }).type).replace(/^.*\//, '');

async function roomSale(): Promise<SaleAnswer> {
  const answer = await api.post<SaleAnswer>('/v1/sales', {
    token: TEST_SECRETS.ADMIN_TOKEN,
    body: {
      sku: 'JOIN-FAST',
      name: 'Join fast path',
      units: 5,
      priceCents: 1_000,
      currency: 'EUR',
      waitingRoom: { admitPerSecond: 1, powDifficulty: 0 },
    },
  });
  if (answer.status !== 201) throw new Error(`sale not created: ${answer.status} ${JSON.stringify(answer.body)}`);
  // Express reads the sale into the cache the fast path peeks into.
  expect(
    (await call(`/v1/sales/${answer.body.id}/challenge/`, { token: await shopperToken(`warm-${answer.body.id}`) })).status,
  ).toBe(200);
  return answer.body;
}

async function solved(challengeAnswer: Answer): Promise<string> {
  const { challenge, difficulty } = JSON.parse(challengeAnswer.body) as { challenge: string; difficulty: number };
  return JSON.stringify({ challenge, nonce: await solveChallenge(challenge, difficulty) });
}

test('a first challenge and join are the fast path’s, with the answers and headers Express gives', async () => {
  const sale = await roomSale();
  const challenge = `/v1/sales/${sale.id}/challenge`;
  const queue = `/v1/sales/${sale.id}/queue`;
  // Shopper ids of one length: their challenges and tickets are too, so Content-Length compares.
  const [viaExpress, viaFast] = await Promise.all([shopperToken(`e-${sale.id}`), shopperToken(`f-${sale.id}`)]);
  for (const origin of [ALLOWED, OTHER]) {
    const express = await counted('challenge', `${challenge}/`, { token: viaExpress, origin });
    // A token never seen before: verified by the fast path itself.
    const fast = await counted('challenge', challenge, { token: viaFast, origin });
    expect([express.fast, fast.fast]).toEqual([false, true]);
    expect(withoutBudget(fast.answer).headers).toEqual(withoutBudget(express.answer).headers);
    expect(fast.answer.headers['access-control-allow-origin']).toBe(origin === ALLOWED ? ALLOWED : undefined);
    expect(fast.answer.headers).toMatchObject({ 'cache-control': 'no-store', 'x-request-id': 'same-id' });
    const [a, b] = [express.answer, fast.answer].map((x) => JSON.parse(x.body) as Record<string, unknown>);
    expect(Object.keys(b!)).toEqual(Object.keys(a!));
    expect(b!.difficulty).toBe(a!.difficulty);
  }
  // The join: 201 the first time, 200 with the same ticket again (a new challenge), from both.
  const firstFast = await call(challenge, { token: viaFast, origin: ALLOWED });
  const firstExpress = await call(`${challenge}/`, { token: viaExpress, origin: ALLOWED });
  const firstFastBody = await solved(firstFast);
  const joinedFast = await counted('queue', queue, { token: viaFast, origin: ALLOWED, body: firstFastBody });
  const joinedExpress = await counted('queue', `${queue}/`, {
    token: viaExpress,
    origin: ALLOWED,
    body: await solved(firstExpress),
  });
  expect([joinedExpress.fast, joinedFast.fast]).toEqual([false, true]);
  expect([joinedExpress.answer.status, joinedFast.answer.status]).toEqual([201, 201]);
  expect(withoutBudget(joinedFast.answer).headers).toEqual(withoutBudget(joinedExpress.answer).headers);
  expect(joinedFast.answer.headers.location).toBe(`/v1/sales/${sale.id}/queue/me`);
  const ticket = JSON.parse(joinedFast.answer.body) as { ticketId: string; saleId: string };
  expect(Object.keys(ticket)).toEqual(Object.keys(JSON.parse(joinedExpress.answer.body) as object));
  expect(ticket.saleId).toBe(sale.id);

  const again = await counted('queue', queue, {
    token: viaFast,
    origin: ALLOWED,
    body: await solved(await call(challenge, { token: viaFast })),
  });
  const againExpress = await call(`${queue}/`, {
    token: viaFast,
    origin: ALLOWED,
    body: await solved(await call(challenge, { token: viaFast })),
  });
  expect([again.fast, again.answer.status, againExpress.status]).toEqual([true, 200, 200]);
  expect(withoutBudget(again.answer).headers).toEqual(withoutBudget(againExpress).headers);
  expect(JSON.parse(again.answer.body)).toMatchObject({ ticketId: ticket.ticketId });
  expect(JSON.parse(againExpress.body)).toMatchObject({ ticketId: ticket.ticketId });

  // A challenge spent already: the same 400 from both (the fast path first, then Express).
  const usedFast = await counted('queue', queue, { token: viaFast, origin: ALLOWED, body: firstFastBody });
  const usedExpress = await call(`${queue}/`, { token: viaFast, origin: ALLOWED, body: firstFastBody });
  expect([usedFast.fast, usedFast.answer.status, problemType(usedFast.answer)]).toEqual([true, 400, 'invalid-challenge']);
  expect(withoutBudget(usedFast.answer)).toEqual(withoutBudget(usedExpress));
});

test('refused challenges and bodies get Express’s problem from the fast path; other bodies are left to Express', async () => {
  const sale = await roomSale();
  const queue = `/v1/sales/${sale.id}/queue`;
  const token = await shopperToken(`bodies-${sale.id}`);
  const forged = JSON.stringify({ challenge: 'eyJzIjoiYSJ9.c2lnbmF0dXJl', nonce: '0' });
  const cases: Array<[string, string, string | undefined, boolean]> = [
    // what, body, content type, taken by the fast path
    ['a challenge not issued here', forged, undefined, true],
    ['not JSON', '{"challenge": ', undefined, true],
    ['JSON but not an object (strict)', '"text"', undefined, true],
    ['a body the schema refuses', JSON.stringify({ challenge: 1, nonce: '0', extra: true }), undefined, true],
    ['UTF-8 charset named', forged, 'application/json; charset=utf-8', true],
    ['another content type', forged, 'text/plain', false],
    ['another charset', forged, 'application/json; charset=latin1', false],
  ];
  // Half the queue budget goes to these; a second shopper takes the other half.
  const other = await shopperToken(`bodies2-${sale.id}`);
  for (const [i, [what, body, contentType, taken]] of cases.entries()) {
    const shopper = i < 4 ? token : other;
    const fast = await counted('queue', queue, { token: shopper, body, ...(contentType && { contentType }) });
    const express = await call(`${queue}/`, { token: shopper, body, ...(contentType && { contentType }) });
    expect([what, fast.fast]).toEqual([what, taken]);
    expect([what, fast.answer.status]).toEqual([what, express.status]);
    expect(withoutBudget(fast.answer)).toEqual(withoutBudget(express));
  }
});

test('a token the guard refuses and a spent queue budget are left to Express (401, 429), with one budget for both', async () => {
  const sale = await roomSale();
  const challenge = `/v1/sales/${sale.id}/challenge`;
  const expired = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(`expired-${sale.id}`)
    .setIssuer(SHOPPER_TOKEN_SCOPE.issuer)
    .setAudience(SHOPPER_TOKEN_SCOPE.audience)
    .setIssuedAt(Math.floor(Date.now() / 1000) - 120)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
    .sign(new TextEncoder().encode(TEST_SECRETS.JWT_SECRET));
  for (const token of [expired, await shopperToken(`forged-${sale.id}`, 'another-secret-0123456789abcdef0123'), undefined]) {
    const fast = await counted('challenge', challenge, { ...(token && { token }), origin: ALLOWED });
    const express = await call(`${challenge}/`, { ...(token && { token }), origin: ALLOWED });
    expect([fast.fast, fast.answer.status]).toEqual([false, 401]);
    expect(fast.answer).toEqual(express);
  }
  expect(JSON.parse((await call(challenge, { token: expired })).body)).toMatchObject({ detail: 'the token has expired' });

  // One budget: the fast path's answers and Express's count in it, in turn, until it is spent.
  const token = await shopperToken(`budget-${sale.id}`);
  const remaining: string[] = [];
  let fastCount = 0;
  for (let i = 0; i < LIMIT; i++) {
    const { answer, fast } = await counted('challenge', i % 2 === 0 ? challenge : `${challenge}/`, { token });
    expect(answer.status).toBe(200);
    if (fast) fastCount++;
    remaining.push(answer.headers.ratelimit!);
  }
  expect(fastCount).toBe(LIMIT / 2);
  expect(remaining).toEqual(
    Array.from({ length: LIMIT }, (_, i) =>
      expect.stringMatching(new RegExp(`^limit=${LIMIT}, remaining=${LIMIT - 1 - i}, reset=\\d+$`)),
    ),
  );
  const spent = await counted('challenge', challenge, { token, origin: ALLOWED });
  const spentExpress = await call(`${challenge}/`, { token, origin: ALLOWED });
  expect([spent.fast, spent.answer.status, problemType(spent.answer)]).toEqual([false, 429, 'rate-limited']);
  expect(Object.keys(spent.answer.headers).sort()).toEqual(Object.keys(spentExpress.headers).sort());
  // A join with the budget spent: Express's 429 too, the body never read by the fast path.
  const join = await counted('queue', `/v1/sales/${sale.id}/queue`, {
    token,
    body: JSON.stringify({ challenge: 'x', nonce: '0' }),
  });
  expect([join.fast, join.answer.status]).toEqual([false, 429]);
});
