import { runWorker } from './run-worker';

runWorker(process.env).catch((error: unknown) => {
  console.error('worker failed', error);
  process.exit(1);
});
