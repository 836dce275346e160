import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { apiEnv } from '../../api/config';
import { codecServerEnv } from '../../codec-server/config';
import { DEVELOPMENT_SECRETS } from '../../config/development-secrets';
import { pspEnv } from '../../psp-simulator/config';
import { launcherEnv } from '../../scripts/stack/launcher-env';
import { workerEnv } from '../../worker/config';

/*
 * One source of truth: the config schemas. .env.example and docs/CONFIGURATION.md must list every
 * variable of every schema once, with the default the schema really applies, and .env.example must
 * read the same in a shell (`set -a; . ./.env.example`) as with `node --env-file`.
 */
const ROOT = path.resolve(__dirname, '../..');
const SCHEMAS: Record<string, z.ZodObject> = {
  api: apiEnv,
  worker: workerEnv,
  psp: pspEnv,
  launcher: launcherEnv,
  codec: codecServerEnv,
};

type Default = { kind: 'value'; value: unknown } | { kind: 'required' } | { kind: 'unset' };

function defaultOf(field: z.ZodType): Default {
  const parsed = field.safeParse(undefined);
  if (!parsed.success) return { kind: 'required' };
  return parsed.data === undefined ? { kind: 'unset' } : { kind: 'value', value: parsed.data };
}

/** Every variable of every schema and the fields that read it (a variable may be in several). */
function variables(): Map<string, z.ZodType[]> {
  const all = new Map<string, z.ZodType[]>();
  for (const schema of Object.values(SCHEMAS))
    for (const [name, field] of Object.entries(schema.shape)) all.set(name, [...(all.get(name) ?? []), field as z.ZodType]);
  return all;
}

interface ExampleLine {
  name: string;
  value: string;
  commented: boolean;
}

function exampleLines(): ExampleLine[] {
  const lines: ExampleLine[] = [];
  for (const line of readFileSync(path.join(ROOT, '.env.example'), 'utf8').split('\n')) {
    const match = /^(# )?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!match) continue;
    const raw = match[3]!;
    const value = raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
    lines.push({ name: match[2]!, value, commented: !!match[1] });
  }
  return lines;
}

function readWithShell(): Record<string, string> {
  const script = `set -a; . ./.env.example; set +a; node -e 'process.stdout.write(JSON.stringify(process.env))'`;
  const result = spawnSync('sh', ['-c', script], { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sh could not read .env.example: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

function readWithNode(): Record<string, string> {
  const result = spawnSync(
    process.execPath,
    ['--env-file=.env.example', '-e', 'process.stdout.write(JSON.stringify(process.env))'],
    { cwd: ROOT, env: { PATH: process.env.PATH }, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`node could not read .env.example: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, string>;
}

test('.env.example lists every variable of the schemas once, and nothing else', () => {
  const names = exampleLines().map((line) => line.name);
  const twice = names.filter((name, i) => names.indexOf(name) !== i);
  expect(twice).toEqual([]);
  expect([...names].sort()).toEqual([...variables().keys()].sort());
});

test(".env.example gives each variable the schema's own default; unset ones are commented, secrets are the development values", () => {
  const wrong: string[] = [];
  for (const line of exampleLines()) {
    for (const field of variables().get(line.name) ?? []) {
      const fallback = defaultOf(field);
      if (fallback.kind === 'required') {
        const development = DEVELOPMENT_SECRETS[line.name as keyof typeof DEVELOPMENT_SECRETS];
        if (line.commented || line.value !== development) wrong.push(`${line.name}: not the development secret`);
      } else if (fallback.kind === 'unset') {
        if (!line.commented) wrong.push(`${line.name}: unset by default, so it must be commented`);
        if (!field.safeParse(line.value).success) wrong.push(`${line.name}: the example ${line.value} is not valid`);
      } else {
        const parsed = field.safeParse(line.value);
        if (!parsed.success || !isDeepStrictEqual(parsed.data, fallback.value))
          wrong.push(`${line.name}: ${line.value} is not the default ${JSON.stringify(fallback.value)}`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

test('a shell and node --env-file read .env.example alike, every uncommented line and no other', () => {
  const expected = Object.fromEntries(exampleLines().flatMap((line) => (line.commented ? [] : [[line.name, line.value]])));
  const pick = (env: Record<string, string>) =>
    Object.fromEntries([...variables().keys()].flatMap((name) => (name in env ? [[name, env[name]!]] : [])));
  expect(pick(readWithShell())).toEqual(expected);
  expect(pick(readWithNode())).toEqual(expected);
});

test('docs/CONFIGURATION.md has one row per variable, with the default of .env.example', () => {
  const rows = new Map<string, string[]>();
  for (const line of readFileSync(path.join(ROOT, 'docs/CONFIGURATION.md'), 'utf8').split('\n')) {
    const match = /^\| `([A-Z][A-Z0-9_]*)` *\| ([^|]*)\|/.exec(line);
    if (match) rows.set(match[1]!, [...(rows.get(match[1]!) ?? []), match[2]!.trim()]);
  }
  const wrong: string[] = [];
  for (const [name, cells] of rows) if (cells.length > 1) wrong.push(`${name}: ${cells.length} rows`);
  const example = new Map(exampleLines().map((line) => [line.name, line]));
  for (const [name, fields] of variables()) {
    const cell = rows.get(name)?.[0];
    if (cell === undefined) {
      wrong.push(`${name}: no row`);
      continue;
    }
    const fallback = defaultOf(fields[0]!);
    const expected =
      fallback.kind === 'required'
        ? 'required'
        : fallback.kind === 'unset'
          ? 'unset'
          : example.get(name)?.value === ''
            ? 'empty'
            : `\`${example.get(name)?.value}\``;
    if (cell !== expected) wrong.push(`${name}: "${cell}", not "${expected}"`);
  }
  for (const name of rows.keys()) if (!variables().has(name)) wrong.push(`${name}: in no schema`);
  expect(wrong).toEqual([]);
});
