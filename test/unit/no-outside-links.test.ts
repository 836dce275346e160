/*
 * Nothing in the repository may point at documents outside it: a user who clones it has only
 * what is tracked here. The contract lives in docs/CONTRACT.md. This test reads every tracked
 * file (`git ls-files`) and fails on a reference to a `shared` folder above the repository, or to
 * a contract or infrastructure note in a `shared` folder that is not a tracked path.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/*
 * Path-like tokens that name a folder called `shared`: one reached with `..`, one below an
 * absolute path, or a `contract.md` / `infra.md` inside one. This file spells such paths only in
 * pieces (the regular expression, SHARED below), so that it does not match itself.
 */
const SUSPECT = /[\w./-]*(?:[.][.]\/shared\b[\w./-]*|(?:^|[^\w.-])\/[\w./-]*shared\/[\w./-]*|shared\/(?:contract|infra)[.]md)/g;

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((file) => file.length > 0 && existsSync(join(ROOT, file)) && statSync(join(ROOT, file)).isFile());
}

/**
 * A token is fine only if it names something tracked here (a file, a file without its extension as
 * in an import, or a folder), read from its file's folder or from the repository's root.
 */
function outsideReferences(file: string, text: string, tracked: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(SUSPECT)) {
    const token = match[0].replace(/^[^\w./]+/, '').replace(/[.,;:)]+$/, '');
    const candidates = [posix.normalize(posix.join(posix.dirname(file), token)), posix.normalize(token)];
    const inside = candidates.some((candidate) => {
      const path = candidate.replace(/\/$/, '');
      if (path.startsWith('../') || path.startsWith('/')) return false;
      return [...tracked].some((t) => t === path || t.startsWith(`${path}/`) || t.startsWith(`${path}.`));
    });
    if (!inside) found.push(token);
  }
  return found;
}

function isText(buffer: Buffer): boolean {
  return !buffer.subarray(0, 8000).includes(0);
}

test('the detector flags references outside the repository and accepts tracked shared folders', () => {
  const SHARED = ['sha', 'red'].join('');
  const tracked = new Set([`workflows/${SHARED}/types.ts`, 'docs/CONTRACT.md']);
  const up = '..';
  const outside = [
    `see [the contract](${up}/${SHARED}/contract.md)`,
    `Measured here (${up}/${SHARED}/infra.md).`,
    `the contract is \`${SHARED}/contract.md\``,
    `notes in /work/${SHARED}/infra.md`,
    `import x from '${up}/${up}/${SHARED}/thing'`,
  ];
  for (const line of outside) expect(outsideReferences('docs/DESIGN.md', line, tracked)).not.toEqual([]);
  const inside = [
    `import type { X } from '${up}/${SHARED}/types';`,
    `types in workflows/${SHARED}/types.ts`,
    'the contract is [docs/CONTRACT.md](docs/CONTRACT.md)',
    'a shared machine, shared by the load generator',
  ];
  for (const line of inside) expect(outsideReferences('workflows/reservation/index.ts', line, tracked)).toEqual([]);
});

test('no tracked file refers to documents outside the repository', () => {
  const files = trackedFiles();
  expect(files.length).toBeGreaterThan(50);
  const tracked = new Set(files);
  const offences: string[] = [];
  for (const file of files) {
    const buffer = readFileSync(join(ROOT, file));
    if (!isText(buffer)) continue;
    for (const token of outsideReferences(file, buffer.toString('utf8'), tracked)) offences.push(`${file}: ${token}`);
  }
  expect(offences).toEqual([]);
});

test('docs/CONTRACT.md defines the seven invariants the code cites by number', () => {
  const contract = readFileSync(join(ROOT, 'docs/CONTRACT.md'), 'utf8');
  const section = contract.split(/^## /m).find((part) => part.startsWith('The seven invariants'));
  expect(section).toBeDefined();
  const numbers = [...section!.matchAll(/^(\d+)\. \*\*/gm)].map((match) => Number(match[1]));
  expect(numbers).toEqual([1, 2, 3, 4, 5, 6, 7]);
});
