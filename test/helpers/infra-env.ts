/** Addresses of the services global-setup started for this run. */
export function testInfra(): { databaseUrl: string; temporalAddress: string } {
  const databaseUrl = process.env.TEST_DATABASE_URL;
  const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
  if (!databaseUrl || !temporalAddress) throw new Error('run the tests with jest: global-setup starts Postgres and Temporal');
  return { databaseUrl, temporalAddress };
}
