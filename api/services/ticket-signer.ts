import { createHmac } from 'node:crypto';

/** The queue ticket's audience (`aud`): the claim gate verifies tickets with it (api/services/waiting-room.ts). */
export const TICKET_AUDIENCE = 'queue-ticket';

const b64 = (text: string) => Buffer.from(text).toString('base64url');
/** jose's `setProtectedHeader({ alg: 'HS256', typ: 'JWT' })`, encoded once. */
const HEADER = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

/*
 * Signs queue tickets synchronously, byte for byte the JWT jose's
 * `new SignJWT({ sale }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setSubject(shopper)
 * .setJti(ticket).setAudience('queue-ticket').setIssuedAt().sign(key)` makes (the claims in that
 * order; test/unit/ticket-signer.test.ts compares the two): one HMAC per join, without jose's
 * promise chain and key import.
 */
export function createTicketSigner(key: Uint8Array): (row: { id: string; sale_id: string; shopper_id: string }) => string {
  return (row) => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { sale: row.sale_id, sub: row.shopper_id, jti: row.id, aud: TICKET_AUDIENCE, iat };
    const input = `${HEADER}.${b64(JSON.stringify(claims))}`;
    return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
  };
}
