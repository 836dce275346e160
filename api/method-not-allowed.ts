import type { Express, RequestHandler } from 'express';
import { ErrorCode } from '../domain/errors';
import { Problem, sendProblem } from './problem';

/** The parts of the router's (router 2.x, Express 5) layers this module reads. */
interface RouterLayer {
  match(path: string): unknown;
  route?: { methods: Record<string, boolean | undefined> };
  handle?: { stack?: RouterLayer[] };
}

interface RouteEntry {
  match(path: string): unknown;
  methods: readonly string[];
}

/** Every route of the app (also inside routers mounted with `app.use(router)`), with the methods it serves. */
function routeTable(stack: readonly RouterLayer[]): RouteEntry[] {
  return stack.flatMap((layer): RouteEntry[] => {
    if (layer.route) {
      const methods = Object.keys(layer.route.methods)
        .filter((method) => method !== '_all' && layer.route!.methods[method])
        .map((method) => method.toUpperCase());
      // Express answers HEAD wherever GET is served.
      if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
      return [{ match: (path) => layer.match(path), methods }];
    }
    return layer.handle?.stack ? routeTable(layer.handle.stack) : [];
  });
}

/**
 * The methods served on `path`, or undefined when no route matches it (or its encoding is broken),
 * or when one of the matching routes serves `method` (the scan stops there: nothing to refuse).
 */
function methodsFor(table: readonly RouteEntry[], path: string, method: string): Set<string> | undefined {
  let methods: Set<string> | undefined;
  for (const route of table) {
    let matched: unknown;
    try {
      matched = route.match(path);
    } catch {
      // A parameter that is not valid percent-encoding: the router itself answers it (400).
      return undefined;
    }
    if (!matched) continue;
    if (route.methods.includes(method)) return undefined;
    methods ??= new Set();
    for (const served of route.methods) methods.add(served);
  }
  return methods;
}

/*
 * 405 with `Allow` for a known path asked with a method none of its routes serves (RFC 9110
 * §15.5.6); unknown paths fall through to the 404. The table is read from the app's own router
 * on first use, after every route is registered, so it cannot drift from the routes. OPTIONS is
 * not served (Express would otherwise answer it with a text/plain list): it gets the 405 too.
 * Mounted before the routers, so a refused request's body is never read.
 */
export function methodNotAllowed(app: Express): RequestHandler {
  let table: RouteEntry[] | undefined;
  return (req, res, next) => {
    table ??= routeTable((app.router as unknown as { stack: RouterLayer[] }).stack);
    const methods = methodsFor(table, req.path, req.method);
    if (!methods) return next();
    const allow = [...methods].sort().join(', ');
    res.setHeader('Allow', allow);
    sendProblem(res, new Problem(405, ErrorCode.MethodNotAllowed, `${req.method} is not served on ${req.path}; use ${allow}`));
  };
}
