import { spawn } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from './tools';

/**
 * Applies migrations/ with node-pg-migrate (forward-only numbered SQL, each in a transaction,
 * under an advisory lock so two processes migrating at once is safe).
 */
export function runMigrations(databaseUrl: string, onLog: (line: string) => void = () => undefined): Promise<void> {
  const bin = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'node-pg-migrate');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['up', '--migrations-dir', 'migrations', '--migration-file-language', 'sql', '--no-verbose'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      onLog(chunk.toString().trimEnd());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`migrations failed (exit ${code}):\n${output}`))));
  });
}
