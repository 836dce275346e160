import type { RequestHandler } from 'express';
import helmet from 'helmet';

/*
 * The API answers JSON only, so nothing it serves should ever be rendered, framed or allowed to
 * load anything: a deny-all CSP, no referrer, no sniffing. HSTS stays on (helmet's default) for
 * deployments behind TLS; browsers ignore it over plain HTTP.
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] },
    },
    referrerPolicy: { policy: 'no-referrer' },
    xFrameOptions: { action: 'deny' },
  });
}
