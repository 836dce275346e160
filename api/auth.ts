import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { errors as joseErrors, jwtVerify } from 'jose';
import { ErrorCode } from '../domain/errors';
import { Problem } from './problem';

export type Principal = { kind: 'shopper'; shopperId: string } | { kind: 'admin' };

export interface AuthConfig {
  jwtSecret: string;
  adminToken: string;
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
  // Tokens jose has verified, with their expiry: lets the sold-out fast path (api/sold-out-fast-path.ts)
  // recognise a shopper synchronously. Bounded; the oldest entries go first.
  const verifiedTokens = new Map<string, { shopperId: string; expiresAtMs: number }>();

  const isAdminToken = (token: string): boolean => timingSafeEqual(digest(token), adminDigest);

  async function shopperFrom(token: string): Promise<Principal> {
    // A token jose accepted before is accepted again until its `exp` (an HMAC over the same bytes
    // under the same key cannot change its verdict; `nbf`, once passed, stays passed): each
    // request of a shopper's session pays for the map lookup, not for a verification.
    const known = verifiedTokens.get(token);
    if (known && known.expiresAtMs > Date.now()) return { kind: 'shopper', shopperId: known.shopperId };
    try {
      const { payload } = await jwtVerify(token, jwtKey, { algorithms: ['HS256'], requiredClaims: ['sub', 'exp'] });
      // jose types `sub` as a string but does not check it: a signed `"sub": 42` or `["a"]` arrives as is.
      const sub: unknown = payload.sub;
      if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH || !SUBJECT.test(sub))
        throw new Problem(401, ErrorCode.Unauthorized, 'the token subject is not a valid shopper id');
      if (verifiedTokens.size >= VERIFIED_TOKENS_MAX) verifiedTokens.delete(verifiedTokens.keys().next().value!);
      verifiedTokens.set(token, { shopperId: sub, expiresAtMs: (payload.exp ?? 0) * 1000 });
      return { kind: 'shopper', shopperId: sub };
    } catch (error) {
      if (error instanceof Problem) throw error;
      const reason = error instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid';
      throw new Problem(401, ErrorCode.Unauthorized, reason);
    }
  }

  function guard(accept: { shopper: boolean; admin: boolean }): RequestHandler {
    return async (req, res, next) => {
      const token = bearerToken(req.get('authorization'));
      if (!token) throw new Problem(401, ErrorCode.Unauthorized, 'send Authorization: Bearer <token>');
      if (accept.admin && isAdminToken(token)) {
        res.locals.principal = { kind: 'admin' } satisfies Principal;
        return next();
      }
      if (!accept.shopper) throw new Problem(401, ErrorCode.Unauthorized, 'this route needs the admin token');
      res.locals.principal = await shopperFrom(token);
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
    shopper: guard({ shopper: true, admin: false }),
    admin: guard({ shopper: false, admin: true }),
    shopperOrAdmin: guard({ shopper: true, admin: true }),
  };
}
