import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadApiConfig } from '../../api/config';
import { loadPspConfig } from '../../psp-simulator/config';
import { loadWorkerConfig } from '../../worker/config';
import { TEST_SECRETS } from '../helpers/app-under-test';

/*
 * Secrets have no default outside the development launchers: a deployment that forgets one must
 * stop at start, naming it, rather than accept tokens signed with a value printed in the README.
 */
const withoutSecrets = (env: NodeJS.ProcessEnv) => {
  const copy = { ...env };
  delete copy.JWT_SECRET;
  delete copy.ADMIN_TOKEN;
  delete copy.WEBHOOK_SECRET;
  return copy;
};

describe('configuration', () => {
  test.each(Object.keys(TEST_SECRETS))('the API refuses to start without %s and names it', (name) => {
    const env = { ...TEST_SECRETS, [name]: undefined };
    expect(() => loadApiConfig(env)).toThrow(new RegExp(`${name}: required and unset`));
  });

  test('every missing secret is named at once', () => {
    expect(() => loadApiConfig({})).toThrow(/JWT_SECRET[\s\S]*ADMIN_TOKEN[\s\S]*WEBHOOK_SECRET/);
  });

  test('a secret set too short is refused, naming it', () => {
    expect(() => loadApiConfig({ ...TEST_SECRETS, JWT_SECRET: 'short' })).toThrow(/JWT_SECRET: at least 32 characters/);
  });

  test('with every secret set the API starts with exactly those', () => {
    expect(loadApiConfig(TEST_SECRETS)).toMatchObject(TEST_SECRETS);
  });

  test('the payment simulator refuses to start without WEBHOOK_SECRET', () => {
    expect(() => loadPspConfig({})).toThrow(/WEBHOOK_SECRET: required and unset/);
    expect(loadPspConfig({ WEBHOOK_SECRET: TEST_SECRETS.WEBHOOK_SECRET }).WEBHOOK_SECRET).toBe(TEST_SECRETS.WEBHOOK_SECRET);
  });

  test('the worker needs one secret, the payload keys', () => {
    expect(() => loadWorkerConfig({})).toThrow(/^invalid configuration:\n {2}TEMPORAL_PAYLOAD_KEYS: required and unset[^\n]*$/);
    expect(() => loadWorkerConfig({ TEMPORAL_PAYLOAD_KEYS: TEST_SECRETS.TEMPORAL_PAYLOAD_KEYS })).not.toThrow();
  });
});

test('the API entry point started without JWT_SECRET exits non-zero within seconds, naming it on stderr', async () => {
  const root = path.resolve(__dirname, '../..');
  // As the harness starts it (scripts/stack/service-process.ts), but with no secret in the environment.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'api/server.ts')], {
    cwd: root,
    env: {
      ...withoutSecrets(process.env),
      ADMIN_TOKEN: TEST_SECRETS.ADMIN_TOKEN,
      WEBHOOK_SECRET: TEST_SECRETS.WEBHOOK_SECRET,
      TEMPORAL_PAYLOAD_KEYS: TEST_SECRETS.TEMPORAL_PAYLOAD_KEYS,
      PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const started = Date.now();
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(killer);
  expect(code).not.toBe(0);
  expect(code).not.toBeNull(); // exited by itself, not killed by the 30 s guard
  expect(stderr).toMatch(/JWT_SECRET: required and unset/);
  expect(stderr).not.toMatch(/ADMIN_TOKEN|WEBHOOK_SECRET/);
  console.log(`api without JWT_SECRET exited with code ${code} after ${Date.now() - started} ms`);
});
