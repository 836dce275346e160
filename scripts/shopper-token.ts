import { SignJWT } from 'jose';
import { SHOPPER_TOKEN_SCOPE } from '../config/common';

/**
 * A shopper JWT as the API expects it: HS256, the shopper id in `sub`, an expiry, and the
 * API's issuer and audience (JWT_ISSUER, JWT_AUDIENCE; the defaults unless given).
 */
export function mintShopperToken(
  secret: string,
  shopperId: string,
  expiresIn = '24h',
  scope: { issuer: string; audience: string } = SHOPPER_TOKEN_SCOPE,
): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(shopperId)
    .setIssuer(scope.issuer)
    .setAudience(scope.audience)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
