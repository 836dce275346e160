import { Pool } from 'pg';
import { apiClient, type ApiClient } from './api-client';
import { startAppUnderTest, type AppUnderTest, type AppUnderTestOptions } from './app-under-test';
import { testInfra } from './infra-env';

export interface IntegrationApp {
  app: AppUnderTest;
  /** HTTP client of the app's API with its own connection pool. */
  api: ApiClient;
  /** A direct connection pool to the run's Postgres, for assertions. */
  db: Pool;
}

/** What most integration files need: the app's processes, a client for its API and a database pool. */
export async function startIntegrationApp(options: AppUnderTestOptions = {}, connections = 64): Promise<IntegrationApp> {
  const app = await startAppUnderTest(options);
  return { app, api: apiClient(app.apiUrl, connections), db: new Pool({ connectionString: testInfra().databaseUrl, max: 4 }) };
}

export async function stopIntegrationApp(parts: Partial<IntegrationApp>): Promise<void> {
  await parts.api?.close();
  await parts.db?.end();
  await parts.app?.stop();
}
