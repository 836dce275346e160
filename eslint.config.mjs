import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * Workflow code runs in Temporal's deterministic sandbox, and domain/ is imported by it: no Node
 * built-in (every one this Node knows, bare or `node:`, with subpaths), no package but the two the
 * sandbox is built for, and only types from the Node-side folders.
 */
const WORKFLOW_PACKAGES = new Set(['@temporalio/workflow', '@temporalio/common']);
const NODE_SIDE_FOLDERS = [
  'activities',
  'db',
  'api',
  'worker',
  'clients',
  'invariants',
  'notifications',
  'payments',
  'psp-simulator',
  'scripts',
  'config',
  'bench',
  'chaos',
  'test',
];

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const manifest = JSON.parse(readFileSync(path.join(import.meta.dirname, 'package.json'), 'utf8'));
const nodeOnlyPackages = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter(
  (name) => !WORKFLOW_PACKAGES.has(name) && !name.startsWith('@types/'),
);
const bareBuiltins = [...new Set(builtinModules.map((name) => name.replace(/^node:/, '')))];
const anyOf = (names) => `(?:${names.map(escape).join('|')})`;

const workflowImportBans = {
  patterns: [
    {
      // Every `node:` specifier (including prefix-only ones such as node:test), and each bare name.
      regex: `^(?:node:.*|${anyOf(bareBuiltins)}(?:/.*)?)$`,
      message: 'no Node built-ins in workflow code (it runs in a deterministic sandbox)',
    },
    {
      regex: `^${anyOf(nodeOnlyPackages)}(?:/.*)?$`,
      message: 'workflow code may import only @temporalio/workflow, @temporalio/common and pure project files',
    },
    {
      regex: `^(?:\\.\\./)+${anyOf(NODE_SIDE_FOLDERS)}(?:/.*)?$`,
      allowTypeImports: true,
      message: 'import only types from Node-side code (use `import type`)',
    },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'bench/results/', 'coverage/', 'web/dist/', 'test-artifacts/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // Type-aware rules: every linted .ts file is in tsconfig.json's include.
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', workflowImportBans] },
  },
  {
    // The simulator is its own program: of the product it imports only the payment contract.
    files: ['psp-simulator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!payments/(?:gateway|webhook-signature)$)',
              message: 'the simulator imports only payments/gateway and payments/webhook-signature of the product',
            },
          ],
        },
      ],
    },
  },
  {
    // The product reaches a provider only through payments/ (PaymentGateway), never the simulator's code.
    files: [
      'api/**/*.ts',
      'worker/**/*.ts',
      'activities/**/*.ts',
      'notifications/**/*.ts',
      'payments/**/*.ts',
      'db/**/*.ts',
      'clients/**/*.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '(?:^|/)psp-simulator(?:/|$)', message: 'the simulator is a separate program; use payments/' }] },
      ],
    },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    // Container healthchecks (docker-compose.yml): plain Node ES modules, run without tsx.
    files: ['deploy/**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', fetch: 'readonly', AbortSignal: 'readonly' },
    },
  },
);
