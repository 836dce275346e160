/*
 * No YAML parser is a direct dependency: use `yaml` if present, else the `js-yaml` that jest and
 * eslint bring in (3.x: safeLoad; 4.x: load, which is safe there).
 */
export function parseYaml(text: string): unknown {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const yaml = require('yaml') as { parse: (source: string) => unknown };
    return yaml.parse(text);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw error;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const jsYaml = require('js-yaml') as { load: (source: string) => unknown; safeLoad?: (source: string) => unknown };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { version } = require('js-yaml/package.json') as { version: string };
  const major = Number(version.split('.')[0]);
  return major < 4 && jsYaml.safeLoad ? jsYaml.safeLoad(text) : jsYaml.load(text);
}
