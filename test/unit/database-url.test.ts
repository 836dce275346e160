import path from 'node:path';
import { loadApiConfig } from '../../api/config';
import { loadWorkerConfig } from '../../worker/config';
import { TEST_SECRETS } from '../helpers/app-under-test';

/*
 * DATABASE_URL's TLS parameters are checked at start, naming the variable and never printing it:
 * pg itself would take an unknown sslmode as verify-full and fail only at connect on a missing file.
 */
const BASE = 'postgres://flash_sale:secret-password@db.example:5432/flash_sale';
const load = (url: string) => () => loadApiConfig({ ...TEST_SECRETS, DATABASE_URL: url });

test('an sslmode pg knows, with a readable sslrootcert, is accepted by the API and the worker', () => {
  const url = `${BASE}?sslmode=verify-full&sslrootcert=${encodeURIComponent(path.join(__dirname, 'database-url.test.ts'))}`;
  expect(load(url)().DATABASE_URL).toBe(url);
  expect(loadWorkerConfig({ TEMPORAL_PAYLOAD_KEYS: TEST_SECRETS.TEMPORAL_PAYLOAD_KEYS, DATABASE_URL: url }).DATABASE_URL).toBe(
    url,
  );
});

test('an unknown sslmode is refused, naming DATABASE_URL and not its value', () => {
  expect(load(`${BASE}?sslmode=verify_full`)).toThrow(/DATABASE_URL: sslmode must be one of disable, prefer, require/);
  expect(load(`${BASE}?sslmode=verify_full`)).not.toThrow(/secret-password|verify_full/);
});

test('an sslrootcert, sslcert or sslkey that names no readable file is refused', () => {
  for (const key of ['sslrootcert', 'sslcert', 'sslkey']) {
    const run = load(`${BASE}?sslmode=verify-full&${key}=/nonexistent/ca.crt`);
    expect(run).toThrow(new RegExp(`DATABASE_URL: ${key} names no file this process can read`));
    expect(run).not.toThrow(/nonexistent/);
  }
});
