import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { temporalConnectionPlan, temporalTls } from '../../clients/temporal-connection';
import { loadWorkerConfig } from '../../worker/config';
import { TEST_SECRETS } from '../helpers/app-under-test';

/* TEMPORAL_TLS_*: the connection options are built from the PEM files, or refused naming the variable. */
const dir = mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-'));
const pem = (name: string, label: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, `-----BEGIN ${label}-----\nMIIB${name}\n-----END ${label}-----\n`);
  return file;
};
const ca = pem('ca.pem', 'CERTIFICATE');
const cert = pem('client.pem', 'CERTIFICATE');
const key = pem('client.key', 'PRIVATE KEY');
const config = (env: NodeJS.ProcessEnv) =>
  loadWorkerConfig({ TEMPORAL_PAYLOAD_KEYS: TEST_SECRETS.TEMPORAL_PAYLOAD_KEYS, ...env });

test('unset: no TLS, a plain connection', () => {
  expect(temporalTls(config({}))).toBeUndefined();
  expect(temporalConnectionPlan(config({})).connection).toEqual({ address: '127.0.0.1:7233' });
});

test('CA, client certificate and key, and server name are read into the connection options', () => {
  const plan = temporalConnectionPlan(
    config({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CA: ca,
      TEMPORAL_TLS_CERT: cert,
      TEMPORAL_TLS_KEY: key,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    }),
  );
  expect(plan.connection.address).toBe('temporal.internal:7233');
  const tls = plan.connection.tls as {
    serverRootCACertificate: Buffer;
    clientCertPair: { crt: Buffer; key: Buffer };
    serverNameOverride: string;
  };
  expect(tls.serverRootCACertificate.toString()).toContain('MIIBca.pem');
  expect(tls.clientCertPair.crt.toString()).toContain('MIIBclient.pem');
  expect(tls.clientCertPair.key.toString()).toContain('MIIBclient.key');
  expect(tls.serverNameOverride).toBe('temporal.internal');
});

test('only a server name: TLS with the system roots', () => {
  expect(temporalTls(config({ TEMPORAL_TLS_SERVER_NAME: 'temporal.example' }))).toEqual({
    serverNameOverride: 'temporal.example',
  });
});

test('a missing file is refused naming its variable and path', () => {
  const missing = path.join(dir, 'nowhere.pem');
  expect(() => temporalTls(config({ TEMPORAL_TLS_CA: missing }))).toThrow(`TEMPORAL_TLS_CA: cannot read ${missing} (ENOENT)`);
  expect(() => temporalTls(config({ TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: missing }))).toThrow(
    /TEMPORAL_TLS_KEY: cannot read/,
  );
});

test('a file that is not PEM, and a certificate without its key, are refused', () => {
  const notPem = path.join(dir, 'not.pem');
  writeFileSync(notPem, 'hello');
  expect(() => temporalTls(config({ TEMPORAL_TLS_CA: notPem }))).toThrow(`TEMPORAL_TLS_CA: ${notPem} is not a PEM file`);
  expect(() => temporalTls(config({ TEMPORAL_TLS_CERT: cert }))).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both/);
});
