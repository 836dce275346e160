import { decodeJwt, jwtVerify, SignJWT } from 'jose';
import { createTicketSigner, TICKET_AUDIENCE } from '../../api/services/ticket-signer';

/*
 * The queue ticket is signed without jose (api/services/ticket-signer.ts); its bytes must be the
 * ones jose's SignJWT made before, so clients and the claim gate see the same token format.
 */
const key = new TextEncoder().encode('ticket:unit-queue-secret-0123456789abcdef');
const sign = createTicketSigner(key);

const joseTicket = (row: { id: string; sale_id: string; shopper_id: string }) =>
  new SignJWT({ sale: row.sale_id })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(row.shopper_id)
    .setJti(row.id)
    .setAudience(TICKET_AUDIENCE)
    .setIssuedAt()
    .sign(key);

test.each([
  ['plain', 'shopper-1'],
  ['non-ASCII subject', 'käufer “ö” ☃ 𝄞'],
  ['quotes and backslashes', 'a"b\\c'],
])('the signer makes jose’s token byte for byte (%s)', async (_, shopperId) => {
  const row = {
    id: '22222222-2222-4222-8222-222222222222',
    sale_id: '11111111-1111-4111-8111-111111111111',
    shopper_id: shopperId,
  };
  // Signed in the same second (`iat`): retried should the clock tick between the two.
  for (let attempt = 0; ; attempt++) {
    const fromJose = await joseTicket(row);
    const ours = sign(row);
    if (decodeJwt(ours).iat !== decodeJwt(fromJose).iat && attempt < 3) continue;
    expect(ours).toBe(fromJose);
    break;
  }
  const { payload, protectedHeader } = await jwtVerify(sign(row), key, { algorithms: ['HS256'], audience: TICKET_AUDIENCE });
  expect(protectedHeader).toEqual({ alg: 'HS256', typ: 'JWT' });
  expect(payload).toMatchObject({ sale: row.sale_id, sub: shopperId, jti: row.id });
});
