import { createHmac } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { SHOPPER_TOKEN_SCOPE } from '../../config/common';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const inAnHour = () => Math.floor(Date.now() / 1000) + 3_600;

/** A JWT with any header and payload, HMAC-SHA256-signed with `secret` whatever `alg` says. */
export function handMadeJwt(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

function signed(secret: string, alg: string, payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
}

/**
 * Authorization header values that must authenticate nobody, by name. `validShopperToken` is a
 * good token, used to build the header-shape cases (lowercase scheme, double space...).
 */
export async function forgedAuthorizations(jwtSecret: string, validShopperToken: string): Promise<Record<string, string>> {
  const exp = inAnHour();
  const sub = 'mallory';
  const { issuer: iss, audience: aud } = SHOPPER_TOKEN_SCOPE;
  return {
    'Bearer without a token': 'Bearer',
    'Bearer and a space': 'Bearer ',
    'lowercase bearer': `bearer ${validShopperToken}`,
    'uppercase BEARER': `BEARER ${validShopperToken}`,
    'two spaces': `Bearer  ${validShopperToken}`,
    'token and trailing text': `Bearer ${validShopperToken} extra`,
    'Basic scheme': `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    'token without scheme': validShopperToken,
    'alg none': `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub, exp, iss, aud })}.`,
    'alg none without the last dot': `Bearer ${b64({ alg: 'none' })}.${b64({ sub, exp, iss, aud })}`,
    'alg None': `Bearer ${b64({ alg: 'None' })}.${b64({ sub, exp, iss, aud })}.`,
    'HS512 with the right secret': `Bearer ${await signed(jwtSecret, 'HS512', { sub, exp, iss, aud })}`,
    'HS384 with the right secret': `Bearer ${await signed(jwtSecret, 'HS384', { sub, exp, iss, aud })}`,
    'RS256-labelled, HMAC of the secret': `Bearer ${handMadeJwt({ alg: 'RS256', typ: 'JWT' }, { sub, exp, iss, aud }, jwtSecret)}`,
    'ES256-labelled, HMAC of the secret': `Bearer ${handMadeJwt({ alg: 'ES256' }, { sub, exp, iss, aud }, jwtSecret)}`,
    'another secret': `Bearer ${await signed('another-secret-0123456789abcdef0123456789', 'HS256', { sub, exp, iss, aud })}`,
    'the secret with a trailing byte': `Bearer ${await signed(`${jwtSecret}x`, 'HS256', { sub, exp, iss, aud })}`,
    expired: `Bearer ${await signed(jwtSecret, 'HS256', { sub, exp: Math.floor(Date.now() / 1000) - 60, iss, aud })}`,
    'without exp': `Bearer ${await signed(jwtSecret, 'HS256', { sub, iss, aud })}`,
    'exp as a string': `Bearer ${handMadeJwt({ alg: 'HS256' }, { sub, exp: String(exp), iss, aud }, jwtSecret)}`,
    'not yet valid (nbf in a day)': `Bearer ${await signed(jwtSecret, 'HS256', { sub, exp, nbf: exp + 86_400, iss, aud })}`,
    'without sub': `Bearer ${await signed(jwtSecret, 'HS256', { exp, iss, aud })}`,
    'empty sub': `Bearer ${handMadeJwt({ alg: 'HS256' }, { sub: '', exp, iss, aud }, jwtSecret)}`,
    'numeric sub': `Bearer ${handMadeJwt({ alg: 'HS256' }, { sub: 42, exp, iss, aud }, jwtSecret)}`,
    'sub of 129 characters': `Bearer ${await signed(jwtSecret, 'HS256', { sub: 'm'.repeat(129), exp, iss, aud })}`,
    'sub of 10 KB': `Bearer ${await signed(jwtSecret, 'HS256', { sub: 'm'.repeat(10_240), exp, iss, aud })}`,
    'unknown crit header': `Bearer ${handMadeJwt({ alg: 'HS256', crit: ['x-magic'], 'x-magic': true }, { sub, exp, iss, aud }, jwtSecret)}`,
    'payload not JSON': `Bearer ${b64({ alg: 'HS256' })}.${b64('not json')}.${b64('sig')}`,
    'three dots of garbage': 'Bearer a.b.c',
    'garbage string': 'Bearer !!!not-a-token!!!',
    'only dots': 'Bearer ...',
    // Signed with the right secret, but for another service (the API runs with the default JWT_ISSUER and JWT_AUDIENCE).
    'another audience': `Bearer ${await signed(jwtSecret, 'HS256', { sub, exp, iss, aud: 'another-service' })}`,
    'another issuer': `Bearer ${await signed(jwtSecret, 'HS256', { sub, exp, iss: 'another-issuer', aud })}`,
    'without aud': `Bearer ${await signed(jwtSecret, 'HS256', { sub, exp, iss })}`,
    'without iss': `Bearer ${await signed(jwtSecret, 'HS256', { sub, exp, aud })}`,
    'audience list without ours': `Bearer ${await signed(jwtSecret, 'HS256', { sub, exp, iss, aud: ['a', 'b'] })}`,
    'tampered payload': `Bearer ${validShopperToken.split('.')[0]}.${b64({ sub: 'admin', exp, iss, aud })}.${validShopperToken.split('.')[2]}`,
  };
}
