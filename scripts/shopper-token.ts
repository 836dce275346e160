import { SignJWT } from 'jose';

/** A shopper JWT as the API expects it: HS256, the shopper id in `sub`, with an expiry. */
export function mintShopperToken(secret: string, shopperId: string, expiresIn = '24h'): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(shopperId)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}
