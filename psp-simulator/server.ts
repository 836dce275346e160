import pino from 'pino';
import { createPspApp } from './app';
import { loadPspConfig, tunablesFromConfig } from './config';
import { openJournal } from './journal';
import { createRandom } from './random';
import { createWebhookDispatcher } from './webhooks';

/** The simulated payment provider as its own process: `npm run psp`. */
function main(): void {
  const config = loadPspConfig(process.env);
  const logger = pino({ level: config.LOG_LEVEL, base: { service: 'psp', gateway: config.PSP_NAME } });
  const tunables = tunablesFromConfig(config);
  const random = createRandom(config.PSP_SEED);
  const { journal, entries } = openJournal(config.PSP_DATA_FILE);
  const webhooks = createWebhookDispatcher({
    url: config.PSP_WEBHOOK_URL,
    secret: config.WEBHOOK_SECRET,
    tunables,
    random,
    logger,
  });

  const app = createPspApp({ name: config.PSP_NAME, tunables, random, journal, journaled: entries, webhooks, logger });
  const server = app.listen(config.PSP_PORT, config.PSP_HOST, (error?: Error) => {
    if (error) {
      console.error('psp could not listen', error);
      process.exit(1);
    }
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : config.PSP_PORT;
    logger.info(
      { port, journaled: entries.length, webhooks: config.PSP_WEBHOOK_URL || 'disabled' },
      `psp listening on http://${config.PSP_HOST}:${port}`,
    );
  });

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    webhooks.close();
    server.close(() => {
      journal.close();
      process.exit(0);
    });
    server.closeIdleConnections();
    // tok_slow and slow-fault answers may hold connections open for seconds; do not wait for them.
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

try {
  main();
} catch (error) {
  console.error('psp failed to start', error);
  process.exit(1);
}
