import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs',
  'path',
  'os',
  'crypto',
  'child_process',
  'net',
  'http',
  'https',
  'util',
  'stream',
  'events',
  'worker_threads',
  'readline',
  'url',
  'timers',
  'process',
];

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'bench/results/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox; domain/ is imported by it.
    files: ['workflows/**/*.ts', 'domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins
              .flatMap((name) => [name, `node:${name}`])
              .map((name) => ({ name, message: 'no Node built-ins in workflow code' })),
            { name: 'pg', message: 'workflows reach the database through activities' },
            { name: 'express', message: 'no HTTP in workflow code' },
            { name: '@temporalio/client', message: 'workflows use @temporalio/workflow' },
            { name: '@temporalio/activity', message: 'workflows use @temporalio/workflow' },
          ],
          patterns: [
            {
              group: ['../activities/*', '../db/*', '../api/*', '../worker/*', '../clients/*'],
              allowTypeImports: true,
              message: 'import only types from Node-side code',
            },
          ],
        },
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
