/*
 * `npm run token -- <shopperId> [ttl]`: prints a shopper JWT (HS256, signed with JWT_SECRET or
 * the development default) for curl and the checkout frontend during development.
 */
import { SignJWT } from 'jose';
import { DEV_DEFAULTS } from '../config/common';

async function main(): Promise<void> {
  const [shopperId, ttl = '24h'] = process.argv.slice(2);
  if (!shopperId) {
    console.error('usage: npm run token -- <shopperId> [ttl, e.g. 24h]');
    process.exit(2);
  }
  const secret = new TextEncoder().encode(process.env.JWT_SECRET ?? DEV_DEFAULTS.jwtSecret);
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(shopperId)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(secret);
  process.stdout.write(`${token}\n`);
}

void main();
