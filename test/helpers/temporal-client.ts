import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { payloadDataConverter } from '../../clients/temporal-connection';
import { TEST_SECRETS } from './app-under-test';
import { testInfra } from './infra-env';

/** The payload codec of the processes startAppUnderTest starts (TEST_SECRETS.TEMPORAL_PAYLOAD_KEYS). */
export function testDataConverter(): DataConverter {
  return payloadDataConverter(TEST_SECRETS.TEMPORAL_PAYLOAD_KEYS);
}

/** A connection to the run's Temporal server. */
export function connectTestTemporal(): Promise<Connection> {
  return Connection.connect({ address: testInfra().temporalAddress });
}

/** A client that reads and writes payloads as the API and the worker do: through the codec. */
export function testTemporalClient(connection: Connection): Client {
  return new Client({ connection, dataConverter: testDataConverter() });
}
