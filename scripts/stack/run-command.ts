import { spawn } from 'node:child_process';

export interface CommandOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Names the command in the error: `<what> failed (exit N)`, followed by everything it printed. */
  what: string;
  onLog?: (line: string) => void;
}

/** Runs a command to completion, passing its output to `onLog`; rejects with that output if it fails. */
export function runCommand(command: string, args: string[], options: CommandOptions): Promise<void> {
  const onLog = options.onLog ?? (() => undefined);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      onLog(chunk.toString().trimEnd());
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${options.what} failed (exit ${code}):\n${output}`)),
    );
  });
}
