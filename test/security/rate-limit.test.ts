import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino from 'pino';
import { createApp } from '../../api/app';
import { loadApiConfig } from '../../api/config';
import { createMetrics } from '../../api/metrics';
import type { RateLimitConfig } from '../../api/rate-limit';
import { shopperToken } from '../helpers/api-client';
import { TEST_SECRETS } from '../helpers/app-under-test';

/*
 * The limiters in process, around the real createApp: the database and Temporal are stand-ins
 * that find nothing, which is all the routes used here need (404s, refused webhooks, probes).
 */
const SECRET = 'rate-limit-test-secret-0123456789abcdef';
const ADMIN = 'rate-limit-admin-token';

async function startApp(rateLimits: RateLimitConfig, trustProxy = 0): Promise<{ url: string; server: Server }> {
  const pool = { query: async () => ({ rows: [], rowCount: 0 }) };
  const polling = { pollers: [{ lastAccessTime: { seconds: Math.floor(Date.now() / 1000) } }] };
  const temporal = {
    options: { namespace: 'default' },
    workflowService: { getSystemInfo: async () => ({}), describeTaskQueue: async () => polling },
  };
  const { app } = createApp({
    // No sale is ever sold out here and no ledger is read: the limiter is all these tests reach.
    soldOut: {
      isSoldOut: () => false,
      admit: () => 'claim',
      ticket: () => -1,
      markSoldOut: () => undefined,
      unitClaimed: () => undefined,
      stop: async () => undefined,
    },
    changeFeed: {
      subscribe: () => () => undefined,
      subscribers: () => 0,
      onStop: () => () => undefined,
      stop: async () => undefined,
    },
    gateways: [],
    pool: pool as never,
    checkoutPool: pool as never,
    temporal: temporal as never,
    taskQueue: 'unused',
    auth: { jwtSecret: SECRET, adminToken: ADMIN },
    logger: pino({ level: 'silent' }),
    metrics: createMetrics(),
    maxStripes: 4,
    webhookSecret: 'rate-limit-webhook-secret',
    queueSecret: 'rate-limit-queue-secret-0123456789abcdef',
    shopperData: { erasureSecret: 'rate-limit-erasure-secret-0123456789abcdef', notifyEmailDomain: 'shoppers.invalid' },
    rateLimits,
    trustProxy,
  });
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function app(rateLimits: RateLimitConfig, trustProxy = 0): Promise<string> {
  const started = await startApp(rateLimits, trustProxy);
  servers.push(started.server);
  return started.url;
}

const off = { limit: 0, windowMs: 1_000 };
const minute = (limit: number) => ({ limit, windowMs: 60_000 });

async function expectRateLimited(response: Response): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60).toBe(true);
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 429, title: expect.any(String), detail: expect.any(String) });
  expect(String(body.type)).toMatch(/\/rate-limited$/);
}

describe('configuration', () => {
  test('defaults: per-IP off, 60 claims and payments per shopper per 10 s, no trusted proxy', () => {
    const config = loadApiConfig(TEST_SECRETS);
    expect(config).toMatchObject({
      RATE_LIMIT_PER_IP: 0,
      RATE_LIMIT_PER_IP_WINDOW_MS: 60_000,
      RATE_LIMIT_PER_SHOPPER: 60,
      RATE_LIMIT_PER_SHOPPER_WINDOW_MS: 10_000,
      TRUST_PROXY: 0,
    });
  });

  test.each([
    ['RATE_LIMIT_PER_IP', '-1'],
    ['RATE_LIMIT_PER_IP', 'lots'],
    ['RATE_LIMIT_PER_SHOPPER', '2.5'],
    ['RATE_LIMIT_PER_SHOPPER_WINDOW_MS', '0'],
    ['TRUST_PROXY', '11'],
  ])('%s=%s stops the start-up and names the variable', (name, value) => {
    expect(() => loadApiConfig({ ...TEST_SECRETS, [name]: value })).toThrow(name);
  });
});

describe('per IP', () => {
  test('answers 429 problem+json with Retry-After past the limit', async () => {
    const url = await app({ perIp: minute(5), perShopper: off });
    for (let i = 0; i < 5; i++) expect((await fetch(`${url}/v1/sales/not-a-sale`)).status).toBe(404);
    const limited = await fetch(`${url}/v1/sales/not-a-sale`);
    await expectRateLimited(limited);
    expect(limited.headers.get('ratelimit-policy')).toMatch(/5;w=60/);
    // Every route but the exempt ones shares the budget.
    await expectRateLimited(await fetch(`${url}/v1/reservations/00000000-0000-4000-8000-000000000000`));
  });

  test('never limits health, readiness, metrics or the provider webhook', async () => {
    const url = await app({ perIp: minute(2), perShopper: off });
    for (let i = 0; i < 3; i++) await fetch(`${url}/nothing-here`);
    for (let i = 0; i < 10; i++) {
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect((await fetch(`${url}/HEALTHZ/`)).status).toBe(200);
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      const webhook = await fetch(`${url}/v1/webhooks/payments`, { method: 'POST', body: '{}' });
      expect(webhook.status).toBe(400); // refused for its signature, not limited
    }
    await expectRateLimited(await fetch(`${url}/nothing-here`));
  });

  test('X-Forwarded-For is ignored unless TRUST_PROXY says a proxy sets it', async () => {
    const direct = await app({ perIp: minute(2), perShopper: off });
    for (let i = 0; i < 2; i++) await fetch(`${direct}/x`, { headers: { 'x-forwarded-for': `10.0.0.${i}` } });
    await expectRateLimited(await fetch(`${direct}/x`, { headers: { 'x-forwarded-for': '10.0.0.99' } }));

    const proxied = await app({ perIp: minute(2), perShopper: off }, 1);
    for (let i = 0; i < 2; i++) await fetch(`${proxied}/x`, { headers: { 'x-forwarded-for': '10.0.0.1' } });
    await expectRateLimited(await fetch(`${proxied}/x`, { headers: { 'x-forwarded-for': '10.0.0.1' } }));
    expect((await fetch(`${proxied}/x`, { headers: { 'x-forwarded-for': '10.0.0.2' } })).status).toBe(404);
  });

  test('0 turns it off', async () => {
    const url = await app({ perIp: off, perShopper: off });
    const answers = await Promise.all(Array.from({ length: 300 }, () => fetch(`${url}/x`).then((r) => r.status)));
    expect(new Set(answers)).toEqual(new Set([404]));
  });
});

describe('per shopper', () => {
  const sign = (sub: string) => shopperToken(sub, SECRET);
  const claim = (url: string, token: string) =>
    fetch(`${url}/v1/sales/00000000-0000-4000-8000-000000000000/reservations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
  const pay = (url: string, token: string) =>
    fetch(`${url}/v1/reservations/00000000-0000-4000-8000-000000000000/payment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ paymentMethod: 'tok_visa' }),
    });

  test('claims and payments share one budget per JWT subject; other shoppers and reads are not affected', async () => {
    const url = await app({ perIp: off, perShopper: minute(3) });
    const alice = await sign('alice');
    expect((await claim(url, alice)).status).toBe(404);
    expect((await pay(url, alice)).status).toBe(404);
    expect((await claim(url, alice)).status).toBe(404);
    await expectRateLimited(await claim(url, alice));
    await expectRateLimited(await pay(url, alice));
    // A fresh token for the same subject is the same shopper.
    await expectRateLimited(await claim(url, await sign('alice')));
    expect((await claim(url, await sign('bob'))).status).toBe(404);
    const read = await fetch(`${url}/v1/reservations/00000000-0000-4000-8000-000000000000`, {
      headers: { authorization: `Bearer ${alice}` },
    });
    expect(read.status).toBe(404);
  });

  test('the order history has the same rule on counters of its own: it never spends the claim budget', async () => {
    const url = await app({ perIp: off, perShopper: minute(3) });
    const alice = await sign('alice');
    const history = (token: string) => fetch(`${url}/v1/me/reservations`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) {
      const page = await history(alice);
      expect(page.status).toBe(200);
      expect(page.headers.get('ratelimit-policy')).toMatch(/^3;w=60/);
    }
    await expectRateLimited(await history(alice));
    expect((await claim(url, alice)).status).toBe(404);
    expect((await history(await sign('bob'))).status).toBe(200);
    // Unauthenticated reads are 401 and counted nowhere.
    expect((await fetch(`${url}/v1/me/reservations`)).status).toBe(401);
  });

  test('is counted after authentication: forged tokens are 401 and spend nobody’s budget', async () => {
    const url = await app({ perIp: off, perShopper: minute(2) });
    const forged = await shopperToken('alice', 'another-secret-0123456789abcdef0123456789');
    for (let i = 0; i < 10; i++) expect((await claim(url, forged)).status).toBe(401);
    expect((await claim(url, await sign('alice'))).status).toBe(404);
  });
});

describe('waiting room, per shopper', () => {
  const sale = '00000000-0000-4000-8000-000000000000';
  const challenge = (url: string, token: string) =>
    fetch(`${url}/v1/sales/${sale}/challenge`, { headers: { authorization: `Bearer ${token}` } });
  const join = (url: string, token: string) =>
    fetch(`${url}/v1/sales/${sale}/queue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ challenge: 'x.y', nonce: '0' }),
    });

  test('challenges and queue joins share their own budget, apart from claims; polling queue/me is not counted', async () => {
    const url = await app({ perIp: off, perShopper: minute(100), queuePerShopper: minute(3) });
    const mallory = await shopperToken('mallory', SECRET);
    expect((await challenge(url, mallory)).status).toBe(404);
    expect((await join(url, mallory)).status).toBe(404);
    expect((await challenge(url, mallory)).status).toBe(404);
    await expectRateLimited(await challenge(url, mallory));
    await expectRateLimited(await join(url, mallory));
    expect((await challenge(url, await shopperToken('carol', SECRET))).status).toBe(404);
    const poll = await fetch(`${url}/v1/sales/${sale}/queue/me`, { headers: { authorization: `Bearer ${mallory}` } });
    expect(poll.status).toBe(404);
    const claim = await fetch(`${url}/v1/sales/${sale}/reservations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mallory}` },
    });
    expect(claim.status).toBe(404);
  });
});
