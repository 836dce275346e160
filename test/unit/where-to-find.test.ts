import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * docs/DESIGN.md's "Where to find" table names real code: every backticked path exists, and every
 * backticked name after a path occurs in that file.
 */
const ROOT = path.resolve(__dirname, '../..');
const design = readFileSync(path.join(ROOT, 'docs/DESIGN.md'), 'utf8');
const section = design.slice(design.indexOf('### Where to find'), design.indexOf('\n## ', design.indexOf('### Where to find')));
const rows = section.split('\n').filter((line) => /^\| [a-z]+ +\|/.test(line) && !line.startsWith('| step'));

const PATH = /^[a-z][\w-]*(?:\/[\w.-]+)+\.ts$/;
const NAME = /^[A-Za-z_]\w*$/;

test('the table has one row for each step a newcomer looks for', () => {
  expect(rows.map((row) => row.split('|')[1]!.trim())).toEqual([
    'claim',
    'hold',
    'payment',
    'webhook',
    'refund',
    'admission',
    'history',
    'erasure',
    'retention',
    'codec',
  ]);
});

test.each(rows.map((row) => [row.split('|')[1]!.trim(), row]))('%s: every path exists and names what follows it', (_, row) => {
  const tokens = [...row.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
  let file: string | undefined;
  const checked: string[] = [];
  for (const token of tokens) {
    if (PATH.test(token)) {
      expect(existsSync(path.join(ROOT, token))).toBe(true);
      file = readFileSync(path.join(ROOT, token), 'utf8');
      checked.push(token);
    } else if (NAME.test(token) && file !== undefined) {
      expect(`${checked.at(-1)}: ${file.includes(token) ? token : 'missing'}`).toBe(`${checked.at(-1)}: ${token}`);
    }
  }
  expect(checked.length).toBeGreaterThanOrEqual(4);
});
