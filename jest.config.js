/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.ts',
  // The suites share one Postgres and one Temporal server and several spawn whole processes;
  // on a 2-core machine running them one at a time is both faster and steadier.
  maxWorkers: 1,
  testTimeout: 120_000,
  verbose: true,
};
