import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { reportJoins } from '../../db/queries/pow-join-counts';
import {
  confirmAdmission,
  findPlaceByShopper,
  findPlaceByTicket,
  leaveQueue,
  type QueuePlaceRow,
  type QueueTicketRow,
} from '../../db/queries/queue-tickets';
import { positionsGiven, roomCounters, type RoomCounters } from '../../db/queries/room-counters';
import type { SaleRow } from '../../db/rows';
import { ErrorCode } from '../../domain/errors';
import {
  hasLeadingZeroBits,
  MAX_POW_DIFFICULTY,
  nextPollSeconds,
  powInput,
  type QueuePositionView,
  type WaitingRoomSettings,
} from '../../domain/waiting-room';
import { Problem } from '../problem';
import { keptPlace, type KeptPlace } from './kept-place';
import { createTicketInserts } from './ticket-inserts';
import { createTicketSigner, TICKET_AUDIENCE } from './ticket-signer';

/** How long a challenge may be solved and spent. */
export const CHALLENGE_SECONDS = 120;
/** Joins per second above `admitPerSecond` × this factor raise the difficulty (see `difficultyFor`). */
const SURGE_FACTOR = 2;
const MAX_EXTRA_BITS = 8;
const SURGE_WINDOW_MS = 10_000;
/** How often a process writes its joins and reads the other processes' (db/queries/pow-join-counts.ts), per sale. */
const SURGE_REPORT_MS = 1_000;
/** Other processes' joins older than this (reports failing) are left out: the count falls back to this process's. */
const SURGE_SHARED_TTL_MS = 3_000;
/** How stale the "now serving" counter queue/me answers with may be. */
const SERVING_TTL_MS = 250;
/**
 * The claim gate takes a cached admission (one extended past its confirm window, see `seen`) as
 * running only with more than this left by the API's clock (clocks of the API and Postgres may
 * differ by far less). The gate only saves a read: the claim statement checks the admission is
 * live itself (db/queries/claim-unit.ts), by the database's clock.
 */
const GATE_CACHE_MARGIN_MS = 10_000;
/** Places and counters kept per process (the oldest go first). */
const CACHE_MAX = 200_000;

interface ChallengeClaims {
  /** sale id, shopper id, expiry (epoch ms), random id, difficulty */
  s: string;
  u: string;
  e: number;
  n: string;
  d: number;
}

export interface IssuedChallenge {
  challenge: string;
  difficulty: number;
  expiresAt: string;
}

export interface JoinedQueue {
  created: boolean;
  ticket: string;
  ticketId: string;
  saleId: string;
  joinedAt: string;
}

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/*
 * Challenges are stateless: `<claims>.<hmac>`, both base64url, the HMAC-SHA256 under QUEUE_SECRET
 * binding the sale, the shopper, the expiry, a random id and the difficulty. Verifying one reads
 * nothing; spending one is the ticket insert, whose unique index on the challenge id refuses a
 * second use.
 */
export function createWaitingRoom(deps: {
  pool: Pool;
  /** The claim gate's reads (`requireAdmission`): the checkout pool (api/app.ts); `pool` if none. */
  checkoutPool?: Pool;
  queueSecret: string;
  now?: () => number;
  /** Counts queue/me's reads of places (`queue_place_reads_total`). */
  onPlaceRead?: (kind: 'shopper' | 'positions') => void;
  logger?: Pick<Logger, 'warn'>;
}) {
  const { pool } = deps;
  const now = deps.now ?? Date.now;
  const tickets = createTicketInserts(pool);
  const hmacKey = createHash('sha256').update(`challenge:${deps.queueSecret}`).digest();
  const ticketKey = new TextEncoder().encode(`ticket:${deps.queueSecret}`);
  /*
   * The surge is the sale's join rate across every API process: each counts its own joins per
   * 10 s window (aligned to the clock, so processes share window numbers) and, at most once a
   * second per sale while joins or challenges come, writes them to Postgres and reads everyone
   * else's (db/queries/pow-join-counts.ts). The others' count is up to a second old; if it cannot
   * be read for 3 s, only this process's joins count.
   */
  const processId = randomUUID();
  const joins = new Map<string, { window: number; current: number; previous: number }>();
  const elsewhere = new Map<string, { joins: number; readAt: number }>();
  const reportsDue = new Set<string>();

  const sign = (payload: string) => createHmac('sha256', hmacKey).update(payload).digest();
  const windowOf = (t: number) => Math.floor(t / SURGE_WINDOW_MS);

  /** This process's joins of the sale in the current and previous window. */
  function localJoins(saleId: string, window: number): { current: number; previous: number } {
    const entry = joins.get(saleId);
    if (entry?.window === window) return entry;
    if (entry?.window === window - 1) return { current: 0, previous: entry.current };
    return { current: 0, previous: 0 };
  }

  function scheduleReport(saleId: string): void {
    if (reportsDue.has(saleId)) return;
    reportsDue.add(saleId);
    setTimeout(() => {
      reportsDue.delete(saleId);
      const window = windowOf(now());
      reportJoins(pool, { saleId, processId, windowIndex: window, ...localJoins(saleId, window) })
        .then((others) => {
          if (elsewhere.size > 10_000 && !elsewhere.has(saleId)) elsewhere.delete(elsewhere.keys().next().value!);
          elsewhere.set(saleId, { joins: others, readAt: now() });
        })
        .catch((error: unknown) => deps.logger?.warn({ err: error, saleId }, 'join counts not shared; surge counted locally'));
    }, SURGE_REPORT_MS).unref();
  }

  function recordJoin(saleId: string): void {
    const window = windowOf(now());
    const { current, previous } = localJoins(saleId, window);
    if (joins.size > 10_000 && !joins.has(saleId)) joins.delete(joins.keys().next().value!);
    joins.set(saleId, { window, current: current + 1, previous });
    scheduleReport(saleId);
  }

  /**
   * The sale's difficulty, plus one bit per doubling of the join rate above SURGE_FACTOR ×
   * admitPerSecond over the current and previous window (every process's joins), at most
   * MAX_EXTRA_BITS more.
   */
  function difficultyFor(saleId: string, room: WaitingRoomSettings): number {
    const t = now();
    const { current, previous } = localJoins(saleId, windowOf(t));
    const shared = elsewhere.get(saleId);
    if (!shared || t - shared.readAt >= SURGE_REPORT_MS) scheduleReport(saleId);
    const others = shared && t - shared.readAt < SURGE_SHARED_TTL_MS ? shared.joins : 0;
    let extra = 0;
    const perSecond = ((previous + current + others) * 1000) / SURGE_WINDOW_MS / 2;
    const ratio = perSecond / (room.admitPerSecond * SURGE_FACTOR);
    if (ratio > 1) extra = Math.min(MAX_EXTRA_BITS, Math.ceil(Math.log2(ratio)));
    return Math.min(MAX_POW_DIFFICULTY, room.powDifficulty + extra);
  }

  function issueChallenge(sale: SaleRow & { waiting_room: WaitingRoomSettings }, shopperId: string): IssuedChallenge {
    const claims: ChallengeClaims = {
      s: sale.id,
      u: shopperId,
      e: now() + CHALLENGE_SECONDS * 1000,
      n: b64(randomBytes(16)),
      d: difficultyFor(sale.id, sale.waiting_room),
    };
    const payload = b64(JSON.stringify(claims));
    return { challenge: `${payload}.${b64(sign(payload))}`, difficulty: claims.d, expiresAt: new Date(claims.e).toISOString() };
  }

  function refuse(detail: string): never {
    throw new Problem(400, ErrorCode.InvalidChallenge, detail);
  }

  /** The challenge's claims once its signature, binding, expiry and solution all check out. */
  function verifySolution(saleId: string, shopperId: string, challenge: string, nonce: string): ChallengeClaims {
    const [payload, signature, ...rest] = challenge.split('.');
    if (!payload || !signature || rest.length > 0) refuse('the challenge is malformed');
    const expected = sign(payload);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      refuse('the challenge was not issued by this service');
    let claims: ChallengeClaims;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ChallengeClaims;
    } catch {
      refuse('the challenge is malformed');
    }
    if (typeof claims !== 'object' || claims === null || typeof claims.e !== 'number' || typeof claims.d !== 'number')
      refuse('the challenge is malformed');
    if (claims.s !== saleId || claims.u !== shopperId) refuse('the challenge was issued to another shopper or for another sale');
    if (claims.e <= now()) refuse('the challenge has expired; ask for a new one');
    const digest = createHash('sha256').update(powInput(challenge, nonce)).digest();
    if (!hasLeadingZeroBits(digest, claims.d)) refuse(`the nonce does not give ${claims.d} leading zero bits`);
    return claims;
  }

  const ticketFor = createTicketSigner(ticketKey);

  async function joinQueue(
    sale: SaleRow & { waiting_room: WaitingRoomSettings },
    shopperId: string,
    challenge: string,
    nonce: string,
  ): Promise<JoinedQueue> {
    const saleId = sale.id;
    const claims = verifySolution(saleId, shopperId, challenge, nonce);
    const loadedBefore = loadedUpTo.get(saleId) ?? 0;
    const inserted = await tickets.insert({ id: randomUUID(), saleId, shopperId, challengeId: claims.n });
    const row = inserted ?? (await findPlaceByShopper(pool, saleId, shopperId));
    if (!row || (!inserted && row.challenge_id === claims.n)) refuse('this solution has been used already');
    if (inserted) {
      recordJoin(saleId);
      keepJoined(sale, inserted, loadedBefore);
    }
    return {
      created: !!inserted,
      ticket: ticketFor(row),
      ticketId: row.id,
      saleId,
      joinedAt: row.joined_at.toISOString(),
    };
  }

  // The ISO form of a cached admission's end, made once per row rather than once per poll.
  const admittedUntilIso = new WeakMap<KeptPlace, string>();

  /**
   * The shopper's view of `place`, with the counter and the admission's liveness given (the row's
   * own by default). With `room` a waiting view says when to poll again (`nextPollSeconds`), and
   * once the room is sold out every view is `sold-out`. A ticket that left is `left`.
   */
  function positionView(
    place: KeptPlace,
    servingNow = place.serving,
    admissionLive = place.admission_live,
    room?: RoomCounters,
  ): QueuePositionView {
    const ticketId = place.id;
    const position = place.position;
    if (room?.soldOut) return { ticketId, position, status: 'sold-out', ahead: null, estimatedWaitSeconds: null };
    if (place.left_at) return { ticketId, position, status: 'left', ahead: null, estimatedWaitSeconds: null };
    if (place.admitted_at) {
      let until = admittedUntilIso.get(place);
      if (until === undefined) admittedUntilIso.set(place, (until = place.admitted_until!.toISOString()));
      return {
        ticketId,
        position,
        status: admissionLive ? 'admitted' : 'expired',
        ahead: 0,
        estimatedWaitSeconds: 0,
        admittedUntil: until,
      };
    }
    const poll = (estimatedWaitSeconds: number | null) =>
      room && { nextPollSeconds: nextPollSeconds(estimatedWaitSeconds, (room.startsAtMs - now()) / 1000, ticketId) };
    if (position === null)
      return { ticketId, position, status: 'waiting', ahead: null, estimatedWaitSeconds: null, ...poll(null) };
    const ahead = Math.max(0, position - servingNow - 1);
    const estimatedWaitSeconds = Math.ceil((ahead + 1) / place.admit_per_second);
    return { ticketId, position, status: 'waiting', ahead, estimatedWaitSeconds, ...poll(estimatedWaitSeconds) };
  }

  /*
   * queue/me is polled by the whole crowd, so it reads Postgres only when something can have
   * changed. A ticket's position never changes once given, nor its admission once extended (a
   * give-back excepted, which drops this process's copy; other processes' copies are refused by
   * the claim statement): each
   * process keeps every place it has read, and answers from it and the room's counters ("now
   * serving", positions given out, sold out), themselves read at most every SERVING_TTL_MS per
   * sale. When the counters show positions given out beyond what this process has loaded (the
   * shuffle at the start, the arrivals ordered each second after it), one query loads those
   * positions for every place kept here: the start costs a read per process, not one per waiting
   * shopper. Only a ticket the counter has reached (admitted since) is read again. An admitted
   * ticket's expiry is then judged by this process's clock (the claim gate reads the row and the
   * database's clock). Sold out is for good: once read, every place is answered from memory.
   */
  const places = new Map<string, KeptPlace>();
  const rooms = new Map<string, RoomCounters & { reading?: Promise<RoomCounters> }>();
  /** Per sale: positions 1..n have been loaded into `places` (see above). */
  const loadedUpTo = new Map<string, number>();

  function keep(key: string, place: KeptPlace): void {
    if (places.size >= CACHE_MAX && !places.has(key)) places.delete(places.keys().next().value!);
    places.set(key, keptPlace(place));
  }

  /*
   * A ticket just inserted is kept, so the shopper's first poll (or stream) is answered from
   * memory instead of a read per joining shopper. It is unordered; it is ordered after its insert
   * committed, so beyond every position given out then. Kept only when no load of positions
   * landed while the insert was in flight (`loadedBefore` still the mark): then every position
   * it can get is past what this process has loaded, and the next load gives it its own. Otherwise
   * it is left for `position` to read.
   */
  function keepJoined(sale: SaleRow & { waiting_room: WaitingRoomSettings }, row: QueueTicketRow, loadedBefore: number): void {
    if ((loadedUpTo.get(sale.id) ?? 0) !== loadedBefore || row.position !== null) return;
    const room = rooms.get(sale.id);
    keep(`${sale.id}\u0000${row.shopper_id}`, {
      id: row.id,
      position: null,
      serving: room?.serving ?? 0,
      admit_per_second: sale.waiting_room.admitPerSecond,
      admission_live: false,
      admitted_at: null,
      admitted_until: null,
      admission_unseen: false,
      left_at: null,
    });
  }

  /** Gives the places kept here their positions in (loaded, assigned]. */
  async function loadPositions(saleId: string, assigned: number): Promise<void> {
    const loaded = loadedUpTo.get(saleId) ?? 0;
    if (assigned <= loaded) return;
    deps.onPlaceRead?.('positions');
    const given = await positionsGiven(pool, saleId, loaded, assigned);
    for (const { shopper_id, position } of given) {
      const key = `${saleId}\u0000${shopper_id}`;
      const cached = places.get(key);
      if (cached && cached.position === null) keep(key, { ...cached, position });
    }
    // Synchronously after the loop: a place read unordered before this load is either updated
    // above or (read with fewer positions given than this) not kept, see `position`.
    if (assigned > (loadedUpTo.get(saleId) ?? 0)) loadedUpTo.set(saleId, assigned);
  }

  async function roomOf(saleId: string): Promise<RoomCounters> {
    const cached = rooms.get(saleId);
    if (cached && (cached.soldOut || now() - cached.readAt < SERVING_TTL_MS)) return cached;
    if (cached?.reading) return cached.reading;
    const reading = roomCounters(pool, saleId)
      .then(async (counters) => {
        await loadPositions(saleId, counters.assigned);
        const fresh = { ...counters, readAt: now() };
        if (rooms.size >= CACHE_MAX && !rooms.has(saleId)) rooms.delete(rooms.keys().next().value!);
        rooms.set(saleId, fresh);
        return fresh;
      })
      .finally(() => {
        const entry = rooms.get(saleId);
        if (entry?.reading) delete entry.reading;
      });
    rooms.set(saleId, { ...(cached ?? { serving: 0, assigned: 0, soldOut: false, startsAtMs: 0, readAt: 0 }), reading });
    return reading;
  }

  /** The kept place's answer when the counters allow it; undefined when its own row must be read. */
  function answerFromMemory(place: KeptPlace, room: RoomCounters): QueuePositionView | undefined {
    if (room.soldOut) return positionView(place, room.serving, false, room);
    if (place.admitted_until) return positionView(place, place.serving, place.admitted_until.getTime() > now());
    if (place.position === null) return positionView(place, room.serving, false, room);
    return room.serving < place.position ? positionView(place, room.serving, false, room) : undefined;
  }

  /**
   * What `position` would answer, when it can be told from this process's copies alone: the place
   * is kept and the counters were read within SERVING_TTL_MS (stale counters are read again in
   * the background). Undefined otherwise: then ask `position`.
   */
  function cachedPosition(saleId: string, shopperId: string): QueuePositionView | undefined {
    const cached = places.get(`${saleId}\u0000${shopperId}`);
    if (!cached) return undefined;
    const room = rooms.get(saleId);
    if (room?.soldOut) return answerFromMemory(cached, room);
    if (cached.admitted_until) return positionView(cached, cached.serving, cached.admitted_until.getTime() > now());
    if (!room || now() - room.readAt >= SERVING_TTL_MS) {
      if (!room?.reading) roomOf(saleId).catch(() => undefined);
      return undefined;
    }
    return answerFromMemory(cached, room);
  }

  /** The place kept here answered with the counters last read, however old: for when Postgres cannot be asked. */
  function lastKnownPosition(saleId: string, shopperId: string): QueuePositionView | undefined {
    const kept = places.get(`${saleId}\u0000${shopperId}`);
    const room = rooms.get(saleId);
    if (!kept) return undefined;
    if (room && room.readAt > 0) return answerFromMemory(kept, room) ?? positionView(kept, room.serving, false, room);
    return positionView(kept);
  }

  /**
   * The first sighting (issue 21): a place read admitted and still in its confirm window is about
   * to be told "admitted", so its admission is extended to the whole `admissionSeconds` first
   * (one update per admitted shopper) and the place answers with that end. Only places that went
   * through here are kept admitted, so no cached admission outlives an unconfirmed window.
   */
  async function seen(place: QueuePlaceRow | undefined): Promise<QueuePlaceRow | undefined> {
    if (!place?.admission_unseen) return place;
    const until = await confirmAdmission(pool, place.id);
    // Nothing extended: it ran out or was given back a moment ago; the row says which.
    if (!until) return findPlaceByTicket(pool, place.id);
    return { ...place, admitted_until: until, admission_unseen: false };
  }

  async function position(saleId: string, shopperId: string): Promise<QueuePositionView | undefined> {
    const key = `${saleId}\u0000${shopperId}`;
    if (places.has(key)) {
      const room = await roomOf(saleId);
      const kept = places.get(key); // the load in roomOf may have given it its position
      const view = kept && answerFromMemory(kept, room);
      if (view) return view;
    }
    deps.onPlaceRead?.('shopper');
    const place = await seen(await findPlaceByShopper(pool, saleId, shopperId));
    if (!place) return undefined;
    // An unordered place read with fewer positions given out than this process has loaded may
    // have missed its load: not kept, so it is read again next time.
    if (place.position !== null || place.assigned >= (loadedUpTo.get(saleId) ?? 0)) keep(key, place);
    return positionView(place, place.serving, place.admission_live, {
      serving: place.serving,
      assigned: place.assigned,
      soldOut: place.sold_out,
      startsAtMs: place.starts_at.getTime(),
      readAt: now(),
    });
  }

  function notAdmitted(detail: string, view: QueuePositionView | undefined): Problem {
    return new Problem(403, ErrorCode.NotAdmitted, detail, {
      position: view?.position ?? null,
      queueStatus: view?.status ?? null,
      ...(view?.ahead !== undefined && { ahead: view.ahead }),
    });
  }

  /**
   * The claim gate: resolves with the ticket's id when `header` is an admitted, unexpired ticket of
   * this shopper for this sale; otherwise throws 403 not-admitted carrying the shopper's own
   * position (if any). Whether the admission is still unspent is the claim statement's to decide
   * (db/queries/claim-unit.ts), atomically with taking the unit.
   */
  async function requireAdmission(saleId: string, shopperId: string, header: string | undefined): Promise<string> {
    const own = async (detail: string) => notAdmitted(detail, await position(saleId, shopperId));
    if (!header) throw await own('this sale has a waiting room: join it and send your admitted ticket as Queue-Ticket');
    let ticketId: string;
    try {
      const { payload } = await jwtVerify(header, ticketKey, {
        algorithms: ['HS256'],
        audience: TICKET_AUDIENCE,
        requiredClaims: ['sub', 'jti'],
      });
      if (payload.sub !== shopperId || payload.sale !== saleId)
        throw await own('the queue ticket belongs to another shopper or sale');
      ticketId = payload.jti!;
    } catch (error) {
      if (error instanceof Problem) throw error;
      throw await own('the queue ticket is not valid');
    }
    // An admission, once extended, only changes when its shopper leaves (then the claim statement
    // refuses): when this process has read this very ticket admitted (the shopper's poll that saw
    // it) and the admission has well over GATE_CACHE_MARGIN_MS left by this clock, the row is not
    // read again. Nearer its end, or unknown here, the row and the database's clock decide.
    const cached = places.get(`${saleId}\u0000${shopperId}`);
    if (
      cached?.id === ticketId &&
      cached.admitted_until &&
      !cached.admission_unseen &&
      !cached.left_at &&
      cached.admitted_until.getTime() - now() > GATE_CACHE_MARGIN_MS
    )
      return ticketId;
    const place = await findPlaceByTicket(deps.checkoutPool ?? pool, ticketId);
    if (!place || place.shopper_id !== shopperId || place.sale_id !== saleId) throw await own('the queue ticket is not valid');
    const view = positionView(place);
    if (view.status === 'waiting') throw notAdmitted('not admitted yet: keep polling queue/me', view);
    if (view.status === 'expired') throw notAdmitted('the admission has run out', view);
    if (view.status === 'left') throw notAdmitted('you left the waiting room', view);
    return ticketId;
  }

  /**
   * The refusal of a claim the gate let through but whose statement found the admission over
   * (db/queries/claim-unit.ts): this process's copy of the place is dropped, and the shopper's
   * place read again for the answer.
   */
  async function admissionOver(saleId: string, shopperId: string): Promise<Problem> {
    places.delete(`${saleId}\u0000${shopperId}`);
    const view = await position(saleId, shopperId);
    return notAdmitted(view?.status === 'left' ? 'you left the waiting room' : 'the admission has run out', view);
  }

  /**
   * `DELETE …/queue/me`: the shopper leaves the room (db/queries/queue-tickets.ts `leaveQueue`);
   * an admission not spent yet goes back to the room now. This process's copy of the place is
   * dropped; another process may still answer queue/me from its own copy until it reads the row
   * again, but every claim is decided by the claim statement, which sees the ticket left.
   */
  async function leave(saleId: string, shopperId: string): Promise<QueuePositionView | undefined> {
    const place = await leaveQueue(pool, saleId, shopperId);
    places.delete(`${saleId}\u0000${shopperId}`);
    return place && positionView(place);
  }

  return {
    issueChallenge,
    joinQueue,
    position,
    cachedPosition,
    lastKnownPosition,
    requireAdmission,
    admissionOver,
    leave,
    difficultyFor,
    recordJoin,
  };
}

export type WaitingRoom = ReturnType<typeof createWaitingRoom>;
