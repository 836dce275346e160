import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

/*
 * The lint configuration as `npm run lint` uses it (eslint.config.mjs, type-aware), run through
 * ESLint's Node API on snippets. ESLint loads its ES-module config with a dynamic import, which
 * jest's module sandbox does not allow, so the linting happens in a child Node process. The
 * snippets borrow the paths of real files so the type-aware parser finds them in tsconfig.json.
 */
const ROOT = path.resolve(__dirname, '../..');

interface Snippet {
  filePath: string;
  code: string;
}
interface Finding {
  ruleId: string | null;
  message: string;
}

const LINT_SNIPPETS = `
  import { ESLint } from 'eslint';
  const snippets = JSON.parse(process.env.SNIPPETS);
  const eslint = new ESLint({ cwd: process.env.ROOT });
  const results = [];
  for (const { filePath, code } of snippets) {
    const [result] = await eslint.lintText(code, { filePath });
    results.push(result.messages.map(({ ruleId, message }) => ({ ruleId, message })));
  }
  process.stdout.write(JSON.stringify(results));
`;

async function lint(snippets: Snippet[]): Promise<Finding[][]> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', LINT_SNIPPETS], {
    cwd: ROOT,
    env: { ...process.env, ROOT, SNIPPETS: JSON.stringify(snippets) },
    maxBuffer: 10 * 1024 * 1024,
  });
  return JSON.parse(stdout) as Finding[][];
}

const WORKFLOW = 'workflows/index.ts';
const DOMAIN = 'domain/payment.ts';
const valueImport = (filePath: string, source: string, name = '* as imported'): Snippet => ({
  filePath,
  code: `import ${name} from '${source}';\nexport const used = ${name.replace('* as ', '').replace(/[{} ]/g, '')};\n`,
});

const banned: Array<[string, Snippet]> = [
  ['node:fs/promises', valueImport(WORKFLOW, 'node:fs/promises')],
  ['fs/promises', valueImport(WORKFLOW, 'fs/promises')],
  ['buffer', valueImport(WORKFLOW, 'buffer')],
  ['zlib', valueImport(DOMAIN, 'zlib')],
  ['vm', valueImport(WORKFLOW, 'vm')],
  ['node:vm', valueImport(DOMAIN, 'node:vm')],
  ['node:test (prefix-only built-in)', valueImport(WORKFLOW, 'node:test')],
  ['@temporalio/worker', valueImport(WORKFLOW, '@temporalio/worker')],
  ['@temporalio/testing', valueImport(WORKFLOW, '@temporalio/testing')],
  ['pg', valueImport(DOMAIN, 'pg')],
  ['jose', valueImport(WORKFLOW, 'jose')],
  ['undici', valueImport(WORKFLOW, 'undici')],
  ['a package subpath (pino/file)', valueImport(WORKFLOW, 'pino/file')],
  ['a value import of ../activities', valueImport(WORKFLOW, '../activities', '{ createActivities }')],
  ['a value import of ../db/pool from domain/', valueImport(DOMAIN, '../db/pool', '{ createPool }')],
  ['a value import of ../config/common', valueImport(DOMAIN, '../config/common', '{ DEV_DEFAULTS }')],
];

const allowed: Array<[string, Snippet]> = [
  ['@temporalio/workflow', valueImport(WORKFLOW, '@temporalio/workflow', '{ proxyActivities }')],
  ['@temporalio/common', valueImport(WORKFLOW, '@temporalio/common', '{ ApplicationFailure }')],
  ['a project-pure module', valueImport(WORKFLOW, '../domain/errors', '{ ErrorCode }')],
  [
    'a type import of ../activities',
    { filePath: WORKFLOW, code: `import type { Activities } from '../activities';\nexport type Used = Activities;\n` },
  ],
  ['node:fs outside workflow code', valueImport('api/app.ts', 'node:fs/promises')],
];

const floatingPromise = `async function work(): Promise<void> {}\nwork();\n`;

let findings: Finding[][];

beforeAll(async () => {
  findings = await lint([
    ...banned.map(([, snippet]) => snippet),
    ...allowed.map(([, snippet]) => snippet),
    { filePath: 'api/app.ts', code: floatingPromise },
    { filePath: 'api/app.ts', code: `async function work(): Promise<void> {}\nvoid work();\n` },
  ]);
}, 120_000);

test.each(banned.map(([name], i) => [name, i] as const))('workflow code may not import %s', (_name, i) => {
  expect(findings[i]).toEqual([{ ruleId: 'no-restricted-imports', message: expect.any(String) }]);
});

test.each(allowed.map(([name], i) => [name, banned.length + i] as const))('%s passes', (_name, i) => {
  expect(findings[i]).toEqual([]);
});

test('a floating promise is an error anywhere, and `void` marks one left on purpose', () => {
  const at = banned.length + allowed.length;
  expect(findings[at]).toEqual([{ ruleId: '@typescript-eslint/no-floating-promises', message: expect.any(String) }]);
  expect(findings[at + 1]).toEqual([]);
});
