import type { Pool } from 'pg';
import { joinQueue } from '../../clients/waiting-room-client';
import { freePort } from '../../scripts/stack/free-port';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { apiClient, shopperToken, type ApiClient } from '../helpers/api-client';
import type { AppUnderTest } from '../helpers/app-under-test';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor } from '../helpers/sales';

/*
 * The proof-of-work surge (api/services/waiting-room.ts `difficultyFor`) counts the sale's joins
 * across every API process: two processes each seeing half of a surge raise the difficulty as one
 * process seeing all of it would.
 */
let app: AppUnderTest;
let api1: ApiClient;
let api2: ApiClient;
let api2Url: string;
let db: Pool;
let api2Process: ServiceProcess;

beforeAll(async () => {
  ({ app, api: api1, db } = await startIntegrationApp({ env: { RATE_LIMIT_QUEUE_PER_SHOPPER: '0' } }));
  const port2 = await freePort();
  api2Url = `http://127.0.0.1:${port2}`;
  api2Process = serviceProcess({
    name: 'api-2',
    entry: 'api/server.ts',
    env: { ...app.env, PORT: String(port2) },
    onLine: (line) => app.logs.push(`[api-2] ${line}`),
  });
  api2Process.start();
  await waitForHttp(`${api2Url}/readyz`, 60_000);
  api2 = apiClient(api2Url, 16);
}, 120_000);

afterAll(async () => {
  await api2?.close();
  await api2Process?.stop();
  await stopIntegrationApp({ app, api: api1, db });
});

/** At 1 admission/s the surge starts above 2 joins/s, counted over 20 s: above 40 joins. */
const JOINS_PER_PROCESS = 30;

async function joinMany(baseUrl: string, saleId: string, prefix: string): Promise<void> {
  for (let i = 0; i < JOINS_PER_PROCESS; i++) {
    const ticket = await joinQueue(baseUrl, saleId, await shopperToken(`${prefix}-${i}-${saleId}`));
    expect(ticket.ticketId).toEqual(expect.any(String));
  }
}

const difficultyAt = async (api: ApiClient, saleId: string) =>
  (await api.get<{ difficulty: number }>(`/v1/sales/${saleId}/challenge`, await shopperToken(`asker-${saleId}`))).body.difficulty;

test('joins spread over two API processes raise the difficulty on both, as the same joins on one process would', async () => {
  const { id: saleId } = await createTestSale(api1, {
    startsAt: new Date(Date.now() + 3_600_000).toISOString(),
    waitingRoom: { admitPerSecond: 1, powDifficulty: 0 },
  });

  await joinMany(api2Url, saleId, 'via-2');
  expect(await difficultyAt(api2, saleId)).toBe(0); // 30 joins in 20 s: 1.5/s, under the 2/s of the surge
  await joinMany(app.apiUrl, saleId, 'via-1');
  // 60 joins in 20 s between them: 3/s, 1.5 times the surge's start: one bit more, on each process.
  await waitFor(
    async () => [await difficultyAt(api1, saleId), await difficultyAt(api2, saleId)],
    (bits) => bits[0] === 1 && bits[1] === 1,
    5_000,
    'the difficulty on API 1 and API 2',
  );
});
