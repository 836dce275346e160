import { createHash } from 'node:crypto';
import { solveChallenge } from '../../clients/waiting-room-client';
import { createWaitingRoom } from '../../api/services/waiting-room';
import type { SaleRow } from '../../db/rows';
import { hasLeadingZeroBits, type WaitingRoomSettings } from '../../domain/waiting-room';
import { Problem } from '../../api/problem';

/*
 * The challenge checks that need no database: they all refuse before the ticket insert, so the
 * pool here fails any query it is given.
 */
const SECRET = 'unit-queue-secret-0123456789abcdef0123456789';
const SALE = '11111111-1111-4111-8111-111111111111';
const room: WaitingRoomSettings = { admitPerSecond: 10, admissionSeconds: 120, confirmSeconds: 15, powDifficulty: 6 };
const sale = { id: SALE, waiting_room: room } as SaleRow & { waiting_room: WaitingRoomSettings };
const failingPool = {
  query: async () => {
    throw new Error('no database in this test');
  },
};

function service(now: () => number = Date.now) {
  return createWaitingRoom({ pool: failingPool as never, queueSecret: SECRET, now });
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Problem) return `${error.status} ${error.code}: ${error.detail}`;
    throw error;
  }
  throw new Error('not refused');
}

test('leading zero bits are counted bit by bit', () => {
  expect(hasLeadingZeroBits(Uint8Array.of(0x00, 0x0f), 12)).toBe(true);
  expect(hasLeadingZeroBits(Uint8Array.of(0x00, 0x1f), 12)).toBe(false);
  expect(hasLeadingZeroBits(Uint8Array.of(0x80), 0)).toBe(true);
  expect(hasLeadingZeroBits(Uint8Array.of(0x7f), 1)).toBe(true);
  expect(hasLeadingZeroBits(Uint8Array.of(0x00), 9)).toBe(false);
});

test('the client (WebCrypto) finds a solution the server (node:crypto) accepts as one', async () => {
  const { challenge, difficulty } = service().issueChallenge(sale, 'alice');
  let progress = 0;
  const nonce = await solveChallenge(challenge, difficulty, { onProgress: (n) => (progress = n), progressEvery: 8 });
  const digest = createHash('sha256').update(`${challenge}:${nonce}`).digest();
  expect(hasLeadingZeroBits(digest, difficulty)).toBe(true);
  expect(progress === 0 || progress % 8 === 0).toBe(true);
});

test('an expired, tampered, foreign or unsolved challenge is refused before any database access', async () => {
  let clock = Date.now();
  const rooms = service(() => clock);
  const { challenge, difficulty } = rooms.issueChallenge(sale, 'alice');
  const nonce = await solveChallenge(challenge, difficulty);
  const [payload, mac] = challenge.split('.');
  const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
  const longer = Buffer.from(JSON.stringify({ ...claims, e: Number(claims.e) + 3_600_000 })).toString('base64url');

  expect(await refusal(rooms.joinQueue(sale, 'bob', challenge, nonce))).toMatch(/invalid-challenge: .*another shopper/);
  expect(
    await refusal(rooms.joinQueue({ ...sale, id: '22222222-2222-4222-8222-222222222222' }, 'alice', challenge, nonce)),
  ).toMatch(/another sale/);
  expect(await refusal(rooms.joinQueue(sale, 'alice', `${longer}.${mac}`, nonce))).toMatch(/not issued by this service/);
  let wrong = 0;
  while (hasLeadingZeroBits(createHash('sha256').update(`${challenge}:w${wrong}`).digest(), difficulty)) wrong++;
  expect(await refusal(rooms.joinQueue(sale, 'alice', challenge, `w${wrong}`))).toMatch(
    /400 invalid-challenge: the nonce does not give/,
  );
  // Signed by another deployment's secret.
  const elsewhere = createWaitingRoom({ pool: failingPool as never, queueSecret: `${SECRET}-other` }).issueChallenge(
    sale,
    'alice',
  );
  const elsewhereNonce = await solveChallenge(elsewhere.challenge, elsewhere.difficulty);
  expect(await refusal(rooms.joinQueue(sale, 'alice', elsewhere.challenge, elsewhereNonce))).toMatch(
    /not issued by this service/,
  );

  clock += 121_000;
  expect(await refusal(rooms.joinQueue(sale, 'alice', challenge, nonce))).toMatch(/expired/);
  // Valid in every respect: it gets as far as the database.
  clock -= 121_000;
  await expect(rooms.joinQueue(sale, 'alice', challenge, nonce)).rejects.toThrow('no database in this test');
});

test('the difficulty rises one bit per doubling of the join rate above twice the admission rate', () => {
  let clock = 1_000_000;
  const rooms = service(() => clock);
  expect(rooms.difficultyFor(SALE, room)).toBe(6);
  // 4,000 joins over the last two 10 s windows: 200 joins/s, 10 × the threshold of 2 × admitPerSecond
  // (20/s): between 8 and 16 times, four doublings, four more bits.
  for (let i = 0; i < 4_000; i++) rooms.recordJoin(SALE);
  clock += 10_000;
  expect(rooms.difficultyFor(SALE, room)).toBe(6 + 4);
  // 20/s exactly is not above the threshold.
  const calm = service(() => clock);
  for (let i = 0; i < 400; i++) calm.recordJoin(SALE);
  expect(calm.difficultyFor(SALE, room)).toBe(6);
  // Quiet for two windows: back to the sale's own difficulty.
  clock += 20_000;
  expect(rooms.difficultyFor(SALE, room)).toBe(6);
});
