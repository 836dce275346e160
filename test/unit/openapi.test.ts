/*
 * docs/openapi.yaml against the code: an OpenAPI 3.1 document, every route registered in
 * api/routes/*.ts documented with its method (and nothing documented that is not registered),
 * every $ref resolvable inside the document, every extension explained.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ErrorCode } from '../../domain/errors';

const ROOT = resolve(__dirname, '../..');
const DOC_PATH = join(ROOT, 'docs/openapi.yaml');
const ROUTES_DIR = join(ROOT, 'api/routes');
const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'] as const;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every node of the document with its JSON pointer. */
function* walk(node: Json, pointer = '#'): Generator<[string, Json]> {
  yield [pointer, node];
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) yield* walk(child, `${pointer}/${i}`);
  } else if (isObject(node)) {
    for (const [key, child] of Object.entries(node))
      yield* walk(child, `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`);
  }
}

function resolvePointer(doc: Json, ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json | undefined = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) node = /^\d+$/.test(key) ? node[Number(key)] : undefined;
    else if (isObject(node)) node = Object.prototype.hasOwnProperty.call(node, key) ? node[key] : undefined;
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}

/** `method path` for every `router.<method>('<path>'` in api/routes/*.ts, `:param` as `{param}`. */
function registeredRoutes(): { method: string; path: string; file: string }[] {
  const routes: { method: string; path: string; file: string }[] = [];
  for (const file of readdirSync(ROUTES_DIR).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(ROUTES_DIR, file), 'utf8');
    for (const match of source.matchAll(/router\.(get|post|put|patch|delete)\(\s*(['"`])([^'"`]+)\2/g)) {
      routes.push({ method: match[1]!, path: match[3]!.replace(/:(\w+)/g, '{$1}'), file });
    }
  }
  return routes;
}

describe('docs/openapi.yaml', () => {
  const doc = parseYaml(readFileSync(DOC_PATH, 'utf8')) as Json;
  const root = doc as JsonObject;
  const paths = (root.paths ?? {}) as JsonObject;
  const operations = Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => isObject(item) && isObject(item[method])).map((method) => ({
      path,
      method,
      operation: (item as JsonObject)[method] as JsonObject,
      item: item as JsonObject,
    })),
  );

  it('is an OpenAPI 3.1 document with info, paths and components', () => {
    expect(isObject(doc)).toBe(true);
    expect(root.openapi).toMatch(/^3\.1\.\d+$/);
    expect(isObject(root.info)).toBe(true);
    expect((root.info as JsonObject).title).toEqual(expect.any(String));
    expect((root.info as JsonObject).version).toEqual(expect.any(String));
    expect(isObject(root.paths)).toBe(true);
    expect(isObject(root.components)).toBe(true);
    for (const section of ['schemas', 'securitySchemes']) expect(isObject((root.components as JsonObject)[section])).toBe(true);
  });

  it('documents every route registered in api/routes/*.ts with its method', () => {
    const routes = registeredRoutes();
    // Sales 2, reservations 3, payments 1, webhooks 1, admin 1, health 3.
    expect(routes.length).toBeGreaterThanOrEqual(11);
    const missing = routes.filter(
      ({ method, path }) => !(isObject(paths[path]) && isObject((paths[path] as JsonObject)[method])),
    );
    expect(missing).toEqual([]);
  });

  it('documents no route that the code does not register', () => {
    const registered = new Set(registeredRoutes().map(({ method, path }) => `${method} ${path}`));
    const extra = operations.map(({ method, path }) => `${method} ${path}`).filter((key) => !registered.has(key));
    expect(extra).toEqual([]);
  });

  it('resolves every $ref inside the document', () => {
    const refs = [...walk(doc)].filter(([pointer]) => pointer.endsWith('/$ref'));
    expect(refs.length).toBeGreaterThan(0);
    const unresolved = refs
      .map(([pointer, ref]) => ({ pointer, ref }))
      .filter(({ ref }) => typeof ref !== 'string' || resolvePointer(doc, ref) === undefined);
    expect(unresolved).toEqual([]);
  });

  it('gives every operation a security requirement, responses and its path parameters', () => {
    const schemes = (root.components as JsonObject).securitySchemes as JsonObject;
    for (const { path, method, operation, item } of operations) {
      const where = `${method.toUpperCase()} ${path}`;
      expect([where, Array.isArray(operation.security)]).toEqual([where, true]);
      for (const requirement of operation.security as Json[]) {
        for (const name of Object.keys(requirement as JsonObject)) expect([where, name in schemes]).toEqual([where, true]);
      }
      expect([where, isObject(operation.responses) && Object.keys(operation.responses).length > 0]).toEqual([where, true]);

      const declared = [...((item.parameters as Json[]) ?? []), ...((operation.parameters as Json[]) ?? [])]
        .map((p) => (isObject(p) && typeof p.$ref === 'string' ? resolvePointer(doc, p.$ref) : p))
        .filter((p): p is JsonObject => isObject(p) && p.in === 'path')
        .map((p) => p.name);
      for (const [, name] of path.matchAll(/\{(\w+)\}/g))
        expect([where, declared]).toEqual([where, expect.arrayContaining([name])]);
    }
  });

  it('uses only the problem types the code defines, and explains every extension', () => {
    const problemTypes = new Set(
      (((root.components as JsonObject).schemas as JsonObject).ProblemType as JsonObject).enum as string[],
    );
    expect([...problemTypes].sort()).toEqual(
      Object.values(ErrorCode)
        .map((code) => `https://flash-sale.example/problems/${code}`)
        .sort(),
    );
    for (const [pointer, node] of walk(doc)) {
      if (typeof node === 'string' && node.startsWith('https://flash-sale.example/problems/'))
        expect([pointer, problemTypes.has(node)]).toEqual([pointer, true]);
      if (isObject(node) && node['x-extension'] === true) {
        const explained = typeof node['x-extension-reason'] === 'string' || typeof node.description === 'string';
        expect([pointer, explained]).toEqual([pointer, true]);
      }
    }
  });
});
