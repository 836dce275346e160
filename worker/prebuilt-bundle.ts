import { execFile } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/** Bundles the workflows in a child process (worker/bundle-workflows.ts); resolves to the bundle's path. */
export async function bundleWorkflowsInChildProcess(): Promise<string> {
  const codePath = path.join(os.tmpdir(), `flash-sale-workflows-${process.pid}.js`);
  await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(__dirname, 'bundle-workflows.ts'), codePath], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return codePath;
}
