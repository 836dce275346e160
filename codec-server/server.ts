import http from 'node:http';
import pino from 'pino';
import { createEncryptionCodec } from '../payload-codec/encryption-codec';
import { parsePayloadKeys } from '../payload-codec/payload-keys';
import { loadCodecServerConfig } from './config';
import { createCodecServer } from './create-codec-server';

/** The codec endpoint of the Temporal Web UI (docs/OPERATIONS.md, "Reading encrypted workflows"). */
function main(): void {
  const config = loadCodecServerConfig(process.env);
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'codec-server' } });
  const app = createCodecServer({
    codec: createEncryptionCodec(parsePayloadKeys(config.TEMPORAL_PAYLOAD_KEYS)),
    token: config.CODEC_SERVER_TOKEN,
    origins: config.CODEC_SERVER_ORIGINS,
  });
  const server = http.createServer(app);
  server.listen(config.CODEC_SERVER_PORT, config.CODEC_SERVER_HOST, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.CODEC_SERVER_PORT;
    logger.info(
      { port, origins: config.CODEC_SERVER_ORIGINS },
      `codec server listening on http://${config.CODEC_SERVER_HOST}:${port}`,
    );
  });
  const shutdown = () => server.close(() => process.exit(0));
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main();
