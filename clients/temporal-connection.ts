import { readFileSync } from 'node:fs';
import type { ConnectionOptions, DataConverter, TLSConfig } from '@temporalio/client';
import { createEncryptionCodec } from '../payload-codec/encryption-codec';
import { parsePayloadKeys } from '../payload-codec/payload-keys';

/** The TEMPORAL_* settings every process that talks to Temporal reads (config/common.ts `temporalEnv`). */
export interface TemporalSettings {
  TEMPORAL_ADDRESS: string;
  TEMPORAL_NAMESPACE: string;
  TEMPORAL_PAYLOAD_KEYS: string;
  TEMPORAL_TLS_CA?: string;
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
}

/**
 * What a Connection, a NativeConnection, a Client and a Worker need from the settings: the
 * address and TLS of the connection, the namespace, and the data converter whose payload codec
 * encrypts every payload. The same for the API, the worker, the scripts and the tests, so a
 * payload one writes the others read. TLS files are read here: a missing one throws naming its
 * variable.
 */
export interface TemporalConnectionPlan {
  connection: Pick<ConnectionOptions, 'address'> & { tls?: TLSConfig };
  namespace: string;
  dataConverter: DataConverter;
}

export function temporalConnectionPlan(settings: TemporalSettings): TemporalConnectionPlan {
  const tls = temporalTls(settings);
  return {
    connection: { address: settings.TEMPORAL_ADDRESS, ...(tls && { tls }) },
    namespace: settings.TEMPORAL_NAMESPACE,
    dataConverter: payloadDataConverter(settings.TEMPORAL_PAYLOAD_KEYS),
  };
}

/** The data converter of every Client and Worker: default payload conversion, then AES-256-GCM. */
export function payloadDataConverter(payloadKeys: string): DataConverter {
  return { payloadCodecs: [createEncryptionCodec(parsePayloadKeys(payloadKeys))] };
}

/** TLS when any TEMPORAL_TLS_* is set: server roots from TEMPORAL_TLS_CA (else the system's), a client certificate for mTLS. */
export function temporalTls(settings: TemporalSettings): TLSConfig | undefined {
  const { TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_SERVER_NAME: serverName } = settings;
  if (!ca && !cert && !key && !serverName) return undefined;
  if (!cert !== !key)
    throw new Error('TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY: set both (a client certificate and its key) or neither');
  return {
    ...(ca && { serverRootCACertificate: pemFile('TEMPORAL_TLS_CA', ca) }),
    ...(cert && key && { clientCertPair: { crt: pemFile('TEMPORAL_TLS_CERT', cert), key: pemFile('TEMPORAL_TLS_KEY', key) } }),
    ...(serverName && { serverNameOverride: serverName }),
  };
}

function pemFile(variable: string, file: string): Buffer {
  let contents: Buffer;
  try {
    contents = readFileSync(file);
  } catch (error) {
    throw new Error(`${variable}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  if (!contents.toString('utf8').includes('-----BEGIN ')) throw new Error(`${variable}: ${file} is not a PEM file`);
  return contents;
}
