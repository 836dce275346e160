import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../scripts/stack/free-port';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import type { PaymentGateway } from '../../payments/gateway';
import type { Tunables } from '../../psp-simulator/config';
import type { SimulatorLedger } from '../../psp-simulator/types';

/** The simulator's ledger: the contract's fields and the faults and webhooks it injected. */
export async function simulatorLedger(gateway: PaymentGateway): Promise<SimulatorLedger> {
  return (await gateway.ledger()) as SimulatorLedger;
}

export const PSP_TEST_SECRET = 'psp-test-webhook-secret';

export interface RunningPsp {
  url: string;
  process: ServiceProcess;
  logs: string[];
  /** PUT /v1/_control/config. */
  configure(changes: Partial<Tunables>): Promise<void>;
  stop(): Promise<void>;
}

/** The PSP as a real OS process on a free port; resolves once /healthz answers. */
export async function startPsp(env: NodeJS.ProcessEnv = {}): Promise<RunningPsp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs: string[] = [];
  const psp = serviceProcess({
    name: 'psp',
    entry: 'psp-simulator/server.ts',
    env: {
      ...process.env,
      PSP_PORT: String(port),
      PSP_NAME: 'test',
      WEBHOOK_SECRET: PSP_TEST_SECRET,
      PSP_WEBHOOK_URL: '',
      PSP_SEED: '42',
      LOG_LEVEL: 'warn',
      ...env,
    },
    onLine: (line) => logs.push(line),
  });
  psp.start();
  try {
    await waitForHttp(`${url}/healthz`, 30_000);
  } catch (error) {
    await psp.stop();
    throw new Error(`${String(error)}\n${logs.slice(-20).join('\n')}`);
  }
  return {
    url,
    process: psp,
    logs,
    configure: async (changes) => {
      const response = await fetch(`${url}/v1/_control/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(changes),
      });
      if (response.status !== 200) throw new Error(`configure: HTTP ${response.status} ${await response.text()}`);
    },
    stop: () => psp.stop(),
  };
}

export interface ReceivedWebhook {
  rawBody: string;
  signature: string | undefined;
  receivedAtMs: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** Answer the next `count` deliveries with 500. */
  failNext(count: number): void;
  close(): Promise<void>;
}

/** A tiny HTTP server standing in for the API's webhook endpoint. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  let failures = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (failures > 0) {
        failures -= 1;
        res.writeHead(500).end();
        return;
      }
      const signature = req.headers['x-signature'];
      received.push({
        rawBody: Buffer.concat(chunks).toString('utf8'),
        signature: typeof signature === 'string' ? signature : undefined,
        receivedAtMs: Date.now(),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/webhooks/payments`,
    received,
    failNext: (count) => {
      failures = count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
