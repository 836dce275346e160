/*
 * Starts a throwaway Postgres and Temporal server (the dev server, or with TEMPORAL_SERVER=cluster
 * Temporal's own server on that Postgres) on free ports under --dir, applies the migrations,
 * serves the Web UI's codec endpoint (codec-server/; keys from TEMPORAL_PAYLOAD_KEYS, token from
 * CODEC_SERVER_TOKEN), prints one line `READY {json}` and runs until SIGTERM/SIGINT. The test run
 * starts it (test/helpers/global-setup.ts); its JSON names the addresses and pids.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { createCodecServer } from '../../codec-server/create-codec-server';
import { loadCodecServerConfig } from '../../codec-server/config';
import { createEncryptionCodec } from '../../payload-codec/encryption-codec';
import { parsePayloadKeys } from '../../payload-codec/payload-keys';
import { startDataServices } from './data-services';
import { freePort } from './free-port';
import { temporalServerKind } from './temporal-cluster';

async function main(): Promise<void> {
  const dirFlag = process.argv.indexOf('--dir');
  const dir = dirFlag > 0 ? process.argv[dirFlag + 1] : undefined;
  if (!dir) throw new Error('usage: infra.ts --dir <empty directory>');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755); // the unprivileged postgres user must be able to reach its data directory
  const log = (source: string) => (line: string) => process.stderr.write(`[${source}] ${line}\n`);
  // While stopping, the server's complaints about its own shutdown are noise after the test summary.
  let stopping = false;

  const [pgPort, temporalPort, temporalUiPort] = [await freePort(), await freePort(), await freePort()];
  const started = Date.now();
  // The Web UI's codec endpoint, with the keys and token the test run hands over (test/helpers/global-setup.ts).
  const uiUrl = `http://127.0.0.1:${temporalUiPort}`;
  const codecConfig = loadCodecServerConfig({ ...process.env, CODEC_SERVER_PORT: '0', CODEC_SERVER_ORIGINS: uiUrl });
  const codecServer = http.createServer(
    createCodecServer({
      codec: createEncryptionCodec(parsePayloadKeys(codecConfig.TEMPORAL_PAYLOAD_KEYS)),
      token: codecConfig.CODEC_SERVER_TOKEN,
      origins: codecConfig.CODEC_SERVER_ORIGINS,
    }),
  );
  await new Promise<void>((resolve) => codecServer.listen(0, '127.0.0.1', resolve));
  const codecAddress = codecServer.address();
  const codecUrl = `http://127.0.0.1:${typeof codecAddress === 'object' && codecAddress ? codecAddress.port : 0}`;
  const codecEndpoint = `${codecUrl}/${codecConfig.CODEC_SERVER_TOKEN}`;
  const { postgres, temporal } = await startDataServices({
    dir,
    pgPort,
    temporalPort,
    database: 'flash_sale_test',
    temporalServer: temporalServerKind(),
    temporalLogLevel: 'error',
    // The Web UI for test/browser/temporal-web-ui.test.ts: the dev server's own, or the separate UI
    // server that `npm run cluster:build` builds beside the real server.
    temporalUiPort,
    temporalUiCodecEndpoint: codecEndpoint,
    // logfmt from the dev server, JSON from the real one, whose services log "Not enough hosts"
    // errors while they find each other at start.
    onLog: (source, line) =>
      source === 'temporal' &&
      !stopping &&
      /level=(ERROR|FATAL)|"level":"(error|fatal)"|panic/.test(line) &&
      !line.includes('Not enough hosts to serve the request') &&
      log('temporal')(line),
  });

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // Temporal first: the real server keeps its state in this Postgres and writes until it is down.
    await temporal.stop().catch(() => undefined);
    await postgres.stop().catch(() => undefined);
    codecServer.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  log('infra')(
    `Postgres and the Temporal ${temporalServerKind()} server ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  process.stdout.write(
    `READY ${JSON.stringify({ databaseUrl: postgres.url, temporalAddress: temporal.address, temporalUiUrl: temporal.uiUrl, codecUrl, postgresPid: postgres.pid(), temporalPid: temporal.pid() })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`infra failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
