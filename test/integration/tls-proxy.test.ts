import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import type { SecureVersion } from 'node:tls';
import { ensureDevCertificate, type DevCertificate } from '../../scripts/stack/dev-certificate';
import { freePort } from '../../scripts/stack/free-port';
import { serviceProcess, waitForHttp, type ServiceProcess } from '../../scripts/stack/service-process';
import { TEST_SECRETS } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { startNginx, type RunningNginx } from '../helpers/nginx';

/*
 * The compose stack's proxy for real: Debian's nginx runs deploy/nginx/nginx.conf (only its
 * addresses changed, test/helpers/nginx.ts) with a certificate from the development-certificate
 * script, in front of a real API process.
 */
let certificate: DevCertificate;
let api: ServiceProcess;
let proxy: RunningNginx;
const logs: string[] = [];

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(url: string, options: https.RequestOptions = {}): Promise<Answer> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.once('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${url} timed out`)));
    req.end();
  });
}

beforeAll(async () => {
  certificate = ensureDevCertificate(path.join(testInfra().dir, `tls-${randomUUID()}`));
  const port = await freePort();
  api = serviceProcess({
    name: 'api',
    entry: 'api/server.ts',
    env: {
      ...process.env,
      ...TEST_SECRETS,
      DATABASE_URL: testInfra().databaseUrl,
      TEMPORAL_ADDRESS: testInfra().temporalAddress,
      TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
      PORT: String(port),
      TRUST_PROXY: '1',
      LOG_LEVEL: 'warn',
    },
    onLine: (line) => logs.push(`[api] ${line}`),
  });
  api.start();
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000);
  // Both replicas of the compose file on the one API.
  proxy = await startNginx({ upstreams: [`127.0.0.1:${port}`, `127.0.0.1:${port}`], certificate });
});

afterAll(async () => {
  await proxy?.stop();
  await api?.stop();
});

// Always 127.0.0.1 (nginx listens there only); `localhost` as the TLS server name and Host header.
const httpsUrl = (pathname: string) => `https://127.0.0.1:${proxy.httpsPort}${pathname}`;
const asLocalhost: https.RequestOptions = { servername: 'localhost', headers: { host: 'localhost' } };
const trusted = (): https.RequestOptions => ({ ...asLocalhost, ca: readFileSync(certificate.caFile) });

test('GET /healthz over HTTPS, trusting the development CA: the API answers, with one HSTS header', async () => {
  const answer = await request(httpsUrl('/healthz'), trusted());
  expect({ status: answer.status, body: JSON.parse(answer.body) as unknown }).toEqual({ status: 200, body: { status: 'ok' } });
  // The proxy's policy replaces the API's own (helmet's, with includeSubDomains): exactly one value.
  expect(answer.headers['strict-transport-security']).toBe('max-age=31536000');
  // By IP address too (no server name: the certificate's IP entry is checked).
  const byIp = await request(httpsUrl('/healthz'), { ca: readFileSync(certificate.caFile) });
  expect(byIp.status).toBe(200);
  // And an error answer carries HSTS as well (`always`).
  const metrics = await request(httpsUrl('/metrics'), trusted());
  expect([metrics.status, metrics.headers['strict-transport-security']]).toEqual([404, 'max-age=31536000']);
});

test('a client that does not trust the development CA, or offers only TLS 1.1, is refused', async () => {
  await expect(request(httpsUrl('/healthz'), asLocalhost)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  const old: SecureVersion = 'TLSv1.1';
  await expect(request(httpsUrl('/healthz'), { ...trusted(), minVersion: old, maxVersion: old })).rejects.toThrow(
    /alert protocol version/, // the server's alert: it refused the version
  );
});

test('plain HTTP redirects to HTTPS with the method kept and no HSTS; the healthcheck path answers itself', async () => {
  const get = await request(`http://127.0.0.1:${proxy.httpPort}/healthz?probe=1`, asLocalhost);
  expect({ status: get.status, location: get.headers.location, hsts: get.headers['strict-transport-security'] }).toEqual({
    status: 308,
    location: 'https://localhost/healthz?probe=1',
    hsts: undefined,
  });
  const post = await request(`http://127.0.0.1:${proxy.httpPort}/v1/webhooks/payments`, { ...asLocalhost, method: 'POST' });
  expect([post.status, post.headers.location]).toEqual([308, 'https://localhost/v1/webhooks/payments']);
  const health = await request(`http://127.0.0.1:${proxy.httpPort}/proxy-health`);
  expect(health.status).toBe(204);
});
