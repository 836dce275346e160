#!/usr/bin/env node
/*
 * Installs the pinned schemathesis (the schema-driven fuzzer of test/fuzz/openapi-conformance)
 * from PyPI into its own virtualenv, .tools/schemathesis-venv: its many Python dependencies stay
 * apart from the Temporal CLI's venv, whose stamp this never touches. Idempotent: a matching
 * stamp means done. Run by `npm install` (postinstall) and by the conformance test when missing.
 *
 * A failed install does not fail `npm install` (the service does not need it); it is reported
 * loudly here and the conformance test then fails, naming this script. `--strict` exits 1 instead.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const PINNED = { schemathesis: '4.32.5' };
const root = path.resolve(__dirname, '..');
const toolsDir = path.join(root, '.tools');
const venv = path.join(toolsDir, 'schemathesis-venv');
const stampFile = path.join(toolsDir, 'schemathesis-versions.json');
const stamp = JSON.stringify(PINNED);
/** Where the conformance test finds the CLI. */
const SCHEMATHESIS_BIN = path.join(venv, 'bin', 'st');

function say(message) {
  process.stdout.write(`[schemathesis-install] ${message}\n`);
}

function run(command, args) {
  return spawnSync(command, args, { stdio: 'inherit' }).status === 0;
}

function installed() {
  return fs.existsSync(stampFile) && fs.readFileSync(stampFile, 'utf8') === stamp && fs.existsSync(SCHEMATHESIS_BIN);
}

function main() {
  // Container images and own-cluster set-ups skip the development tools together (Dockerfile).
  if (process.env.SKIP_TEMPORAL_INSTALL === '1' && !process.argv.includes('--strict')) {
    return say('skipped (SKIP_TEMPORAL_INSTALL=1)');
  }
  if (installed()) return say(`schemathesis ${PINNED.schemathesis} ready in .tools/schemathesis-venv`);
  fs.mkdirSync(toolsDir, { recursive: true });
  const python = process.env.PYTHON ?? 'python3';
  const specs = Object.entries(PINNED).map(([name, version]) => `${name}==${version}`);
  say(`creating .tools/schemathesis-venv with ${python}; pip install ${specs.join(' ')}`);
  const pip = path.join(venv, 'bin', 'pip');
  if (
    run(python, ['-m', 'venv', venv]) &&
    run(pip, ['install', '--disable-pip-version-check', '--progress-bar', 'off', ...specs])
  ) {
    fs.writeFileSync(stampFile, stamp);
    return say('done');
  }
  say('COULD NOT INSTALL schemathesis (see above): test/fuzz/openapi-conformance.test.ts will fail until');
  say('`node scripts/install-schemathesis.js` succeeds (needs Python >= 3.9 with venv, and PyPI).');
  if (process.argv.includes('--strict')) process.exit(1);
}

if (require.main === module) main();
module.exports = { SCHEMATHESIS_BIN, PINNED };
