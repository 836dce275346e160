/*
 * `npm run token -- <shopperId> [ttl]`: prints a shopper JWT (HS256, signed with JWT_SECRET or
 * the development default; `iss` and `aud` from JWT_ISSUER and JWT_AUDIENCE or their defaults)
 * for curl and the checkout frontend during development.
 */
import { mintShopperToken } from './shopper-token';
import { parseEnv, shopperTokenEnv } from '../config/common';
import { developmentSecretsEnv } from '../config/development-secrets';

async function main(): Promise<void> {
  const [shopperId, ttl = '24h'] = process.argv.slice(2);
  if (!shopperId) {
    console.error('usage: npm run token -- <shopperId> [ttl, e.g. 24h]');
    process.exit(2);
  }
  const { JWT_ISSUER, JWT_AUDIENCE } = parseEnv(shopperTokenEnv, process.env);
  const token = await mintShopperToken(developmentSecretsEnv(process.env).JWT_SECRET, shopperId, ttl, {
    issuer: JWT_ISSUER,
    audience: JWT_AUDIENCE,
  });
  process.stdout.write(`${token}\n`);
}

void main();
