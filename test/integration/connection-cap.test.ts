/*
 * The API's cap on client connections (HTTP_MAX_CONNECTIONS, api/connection-cap.ts), against the
 * real API process: past the cap a new connection is closed on arrival and counted, those already
 * in keep being answered, and a closed one gives its place back.
 */
import net from 'node:net';
import { startIntegrationApp, stopIntegrationApp, type IntegrationApp } from '../helpers/integration-app';
import { metricSample } from '../helpers/metrics';
import { waitFor } from '../helpers/sales';

const CAP = 8;
let parts: IntegrationApp;

beforeAll(async () => {
  parts = await startIntegrationApp({ apiEnv: { HTTP_MAX_CONNECTIONS: String(CAP) } });
});

afterAll(async () => {
  await stopIntegrationApp(parts);
});

/** One keep-alive connection that asks GET /healthz: its status, or `dropped` if the API closed it unanswered. */
function ask(socket: net.Socket): Promise<number | 'dropped'> {
  return new Promise((resolve) => {
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1];
      if (status && head.includes('\r\n\r\n')) {
        socket.off('data', onData);
        resolve(Number(status));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => resolve('dropped'));
    socket.on('error', () => undefined);
    socket.write('GET /healthz HTTP/1.1\r\nHost: api\r\nConnection: keep-alive\r\n\r\n');
  });
}

function connect(url: URL): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

const dropped = () => metricSample(`${parts.app.apiUrl}/metrics`, 'http_connections_dropped_total');

it('closes connections past the cap on arrival, keeps answering those in, and gives a closed one’s place back', async () => {
  const url = new URL(parts.app.apiUrl);
  const before = await dropped();
  // Each connection stays open after its answer (keep-alive), so the cap fills up one by one.
  const sockets: net.Socket[] = [];
  const answers: Array<number | 'dropped'> = [];
  for (let i = 0; i < CAP + 3; i++) {
    const socket = await connect(url);
    sockets.push(socket);
    answers.push(await ask(socket));
  }
  const answered = answers.filter((a) => a === 200).length;
  // Other clients of the harness may hold a place or two: at most CAP are answered, the rest closed.
  expect(answered).toBeGreaterThan(0);
  expect(answered).toBeLessThanOrEqual(CAP);
  expect(answers.filter((a) => a !== 200 && a !== 'dropped')).toEqual([]);
  // Those in keep being answered on their connection.
  const kept = sockets.filter((_, i) => answers[i] === 200);
  expect(await Promise.all(kept.map((socket) => ask(socket)))).toEqual(kept.map(() => 200));

  for (const socket of sockets) socket.destroy();
  // A place comes back once its connection is closed: a new one is answered again.
  await waitFor(
    async () => {
      const socket = await connect(url);
      const answer = await ask(socket);
      socket.destroy();
      return answer;
    },
    (answer) => answer === 200,
    10_000,
    'a new connection answered once the others closed',
  );
  expect((await dropped()) - before).toBeGreaterThanOrEqual(CAP + 3 - answered);
});
