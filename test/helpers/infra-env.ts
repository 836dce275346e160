/** The Web UI of the run's Temporal server (the dev server's own, or the UI server beside the real one). */
export function testTemporalUiUrl(): string | undefined {
  return process.env.TEST_TEMPORAL_UI_URL;
}

/** Addresses of the services global-setup started for this run. */
export function testInfra(): { databaseUrl: string; temporalAddress: string; dir: string } {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
  const dir = process.env.TEST_INFRA_DIR;
  if (!databaseUrl || !temporalAddress || !dir)
    throw new Error('run the tests with jest: global-setup starts Postgres and Temporal');
  return { databaseUrl, temporalAddress, dir };
}
