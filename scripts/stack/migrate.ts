import path from 'node:path';
import { runCommand } from './run-command';
import { PROJECT_ROOT } from './tools';

/**
 * Applies migrations/ with node-pg-migrate (forward-only numbered SQL, each in a transaction,
 * under an advisory lock so two processes migrating at once is safe).
 */
export function runMigrations(databaseUrl: string, onLog: (line: string) => void = () => undefined): Promise<void> {
  const bin = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node-pg-migrate');
  return runCommand(bin, ['up', '--migrations-dir', 'migrations', '--migration-file-language', 'sql', '--no-verbose'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl },
    what: 'migrations',
    onLog,
  });
}
