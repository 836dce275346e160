import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { payloadDataConverter } from '../../clients/temporal-connection';
import { TEST_SECRETS } from './app-under-test';
import { testInfra } from './infra-env';

/** The codec server's token in the test run (scripts/stack/infra.ts serves it; the Web UI's endpoint is `<codec url>/<token>`). */
export const TEST_CODEC_SERVER_TOKEN = 'test-codec-token-0123456789abcdef';

/** The codec server of the run (scripts/stack/infra.ts). */
export function testCodecUrl(): string {
  const url = process.env.TEST_CODEC_URL;
  if (!url) throw new Error('run the tests with jest: global-setup starts the codec server');
  return url;
}

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
