import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { errors as joseErrors, jwtVerify } from 'jose';
import { SHOPPER_TOKEN_SCOPE } from '../config/common';
import { ErrorCode } from '../domain/errors';
import { PSEUDONYM_PREFIX } from '../domain/shopper-data';
import { createAdminAuthThrottle, type AdminAuthThrottleRule } from './admin-auth-throttle';
import { Problem } from './problem';

export type Principal = { kind: 'shopper'; shopperId: string } | { kind: 'admin' };

export interface AuthConfig {
  jwtSecret: string;
  adminToken: string;
  /** The `iss` and `aud` a shopper token must carry (JWT_ISSUER, JWT_AUDIENCE; default SHOPPER_TOKEN_SCOPE). */
  issuer?: string;
  audience?: string;
  /** Failed authentications per client IP on the routes that take the admin token (api/admin-auth-throttle.ts); none = off. */
  adminFailures?: AdminAuthThrottleRule;
}

const MAX_SUBJECT_LENGTH = 128;
/** No control characters (Postgres text cannot hold NUL) and no lone surrogates (they would not survive UTF-8). */
const SUBJECT = /^[^\p{Cc}\p{Cs}]+$/u;

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer ([\x21-\x7e]{1,4096})$/.exec(header ?? '');
  return match?.[1];
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

const VERIFIED_TOKENS_MAX = 50_000;

export function createAuth(config: AuthConfig) {
  const jwtKey = new TextEncoder().encode(config.jwtSecret);
  const adminDigest = digest(config.adminToken);
  // Tokens jose has verified, with their expiry: lets the fast paths in front of Express
  // (api/sold-out-fast-path.ts, api/queue-me-fast-path.ts) recognise a shopper synchronously. Bounded; the oldest entries go first.
  const verifiedTokens = new Map<string, { shopperId: string; expiresAtMs: number }>();

  const isAdminToken = (token: string): boolean => timingSafeEqual(digest(token), adminDigest);
  const throttle = createAdminAuthThrottle(config.adminFailures ?? { limit: 0, windowMs: 1 });
  // Refusals of tokens whose signature verified (expired, another audience...): made with
  // JWT_SECRET, so no guess at the admin token; they do not count against the throttle.
  const signedRefusals = new WeakSet<Problem>();

  async function shopperFrom(token: string): Promise<Principal> {
    // A token jose accepted before is accepted again until its `exp` (an HMAC over the same bytes
    // under the same key cannot change its verdict; `nbf`, once passed, stays passed): each
    // request of a shopper's session pays for the map lookup, not for a verification.
    const known = verifiedTokens.get(token);
    if (known && known.expiresAtMs > Date.now()) return { kind: 'shopper', shopperId: known.shopperId };
    try {
      // `iss` and `aud`: a token signed with the same secret for another service is not ours.
      const { payload } = await jwtVerify(token, jwtKey, {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp', 'iss', 'aud'],
        issuer: config.issuer ?? SHOPPER_TOKEN_SCOPE.issuer,
        audience: config.audience ?? SHOPPER_TOKEN_SCOPE.audience,
      });
      // jose types `sub` as a string but does not check it: a signed `"sub": 42` or `["a"]` arrives as is.
      const sub: unknown = payload.sub;
      // `erased:…` is an erased shopper's pseudonym (api/services/shopper-pseudonym.ts): never a shopper.
      if (
        typeof sub !== 'string' ||
        sub.length === 0 ||
        sub.length > MAX_SUBJECT_LENGTH ||
        !SUBJECT.test(sub) ||
        sub.startsWith(PSEUDONYM_PREFIX)
      )
        throw new Problem(401, ErrorCode.Unauthorized, 'the token subject is not a valid shopper id');
      if (verifiedTokens.size >= VERIFIED_TOKENS_MAX) verifiedTokens.delete(verifiedTokens.keys().next().value!);
      verifiedTokens.set(token, { shopperId: sub, expiresAtMs: (payload.exp ?? 0) * 1000 });
      return { kind: 'shopper', shopperId: sub };
    } catch (error) {
      if (error instanceof Problem) throw signed(error);
      const reason = error instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid';
      const problem = new Problem(401, ErrorCode.Unauthorized, reason);
      // jose checks the claims only once the signature has verified.
      const claimsRefused = error instanceof joseErrors.JWTExpired || error instanceof joseErrors.JWTClaimValidationFailed;
      throw claimsRefused ? signed(problem) : problem;
    }
  }

  function signed(problem: Problem): Problem {
    signedRefusals.add(problem);
    return problem;
  }

  function guard(accept: { shopper: boolean; admin: boolean }): RequestHandler {
    return async (req, res, next) => {
      const token = bearerToken(req.get('authorization'));
      if (!token) throw new Problem(401, ErrorCode.Unauthorized, 'send Authorization: Bearer <token>');
      if (!accept.admin) {
        res.locals.principal = await shopperFrom(token);
        return next();
      }
      // Past its failures a client's token is not compared with the admin token (429), though a
      // valid shopper token still passes where one is accepted.
      const throttled = await throttle.refusal(req, res);
      if (!throttled && isAdminToken(token)) {
        res.locals.principal = { kind: 'admin' } satisfies Principal;
        return next();
      }
      try {
        if (!accept.shopper) throw new Problem(401, ErrorCode.Unauthorized, 'this route needs the admin token');
        res.locals.principal = await shopperFrom(token);
      } catch (error) {
        if (throttled) throw throttled;
        if (error instanceof Problem && !signedRefusals.has(error)) await throttle.failed(req);
        throw error;
      }
      if (throttled) res.removeHeader('Retry-After');
      next();
    };
  }

  return {
    /** The shopper of a token verified before and not yet expired; undefined otherwise. */
    knownShopper(authorization: string | undefined): string | undefined {
      const token = bearerToken(authorization);
      const known = token === undefined ? undefined : verifiedTokens.get(token);
      return known && known.expiresAtMs > Date.now() ? known.shopperId : undefined;
    },
    /**
     * The shopper guard's verdict without Express (api/join-fast-path.ts): the shopper where `shopper`
     * lets the request through (the token then known to `knownShopper`), undefined where it answers 401.
     */
    async verifyShopper(authorization: string | undefined): Promise<string | undefined> {
      const token = bearerToken(authorization);
      if (!token) return undefined;
      try {
        const principal = await shopperFrom(token);
        return principal.kind === 'shopper' ? principal.shopperId : undefined;
      } catch (error) {
        if (error instanceof Problem) return undefined;
        throw error;
      }
    },
    shopper: guard({ shopper: true, admin: false }),
    admin: guard({ shopper: false, admin: true }),
    shopperOrAdmin: guard({ shopper: true, admin: true }),
  };
}
