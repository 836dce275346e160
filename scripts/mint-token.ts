/*
 * `npm run token -- <shopperId> [ttl]`: prints a shopper JWT (HS256, signed with JWT_SECRET or
 * the development default) for curl and the checkout frontend during development.
 */
import { mintShopperToken } from './shopper-token';
import { developmentSecretsEnv } from '../config/development-secrets';

async function main(): Promise<void> {
  const [shopperId, ttl = '24h'] = process.argv.slice(2);
  if (!shopperId) {
    console.error('usage: npm run token -- <shopperId> [ttl, e.g. 24h]');
    process.exit(2);
  }
  const token = await mintShopperToken(developmentSecretsEnv(process.env).JWT_SECRET, shopperId, ttl);
  process.stdout.write(`${token}\n`);
}

void main();
