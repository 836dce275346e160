/*
 * Bundles the workflow code into the file named by argv[2], then exits. The worker runs this in
 * a child process so webpack's memory leaves with it instead of staying in the worker's heap
 * for its whole life (the worker's RSS: `npm run bench -- --only memory`, docs/PERFORMANCE.md).
 */
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: bundle-workflows.ts <output file>');
  const noop = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { trace: noop, debug: noop, info: noop, warn: console.error, error: console.error, log: noop },
  });
  writeFileSync(out, code);
}

main().catch((error: unknown) => {
  console.error('bundling the workflows failed', error);
  process.exit(1);
});
