import { SignJWT } from 'jose';
import { SHOPPER_TOKEN_SCOPE } from '../config/common';
import { joinQueue, pollPosition, queueTicketHeader, WaitingRoomError, type QueueTicket } from '../clients/waiting-room-client';
import type { ReleasePolicy } from '../domain/reservation';
import type { ChaosHttp } from './http';
import type { Random } from './random';

export type Plan = 'pay:tok_visa' | 'pay:tok_chargeDeclined' | 'pay:tok_slow' | 'pay-late:tok_visa' | 'cancel' | 'abandon';

export type Outcome =
  | 'sold-out'
  | 'queue-gave-up'
  | 'queue-expired'
  | 'queue-sold-out'
  | 'jumper-refused'
  | 'jumper-not-placed'
  | 'not-admitted'
  | 'waitlist-not-offered'
  | 'waitlist-refused'
  | 'claim-gave-up'
  | 'claim-refused'
  | 'payment-accepted'
  | 'payment-already-submitted'
  | 'payment-hold-expired'
  | 'payment-refused'
  | 'payment-gave-up'
  | 'cancelled'
  | 'cancel-refused'
  | 'cancel-gave-up'
  | 'abandoned';

export interface CrowdOptions {
  saleId: string;
  shoppers: number;
  arrivalSeconds: number;
  holdSeconds: number;
  releasePolicy: ReleasePolicy;
  jwtSecret: string;
  seed: number;
  random: Random;
  http: ChaosHttp;
  say: (message: string) => void;
  /** The sale has a waiting room: join it, wait to be admitted, claim with the ticket. */
  waitingRoom?: boolean;
  /** Waiting room and waitlist: this share of shoppers skips the queue and goes straight for the waitlist. */
  queueJumpers?: number;
  /** The API's address, for the waiting-room client (clients/waiting-room-client.ts). */
  apiUrl: string;
}

/** Calls made through the waiting-room client (each may be several requests), apart from `ChaosHttp`'s. */
export interface RoomClientStats {
  calls: number;
  retries: number;
  gaveUp: number;
  /** Why calls were retried: the answer's status, or `no answer`. */
  retriedOn: Record<string, number>;
}

export interface CrowdResult {
  plans: Record<string, number>;
  outcomes: Record<string, number>;
  claimed: number;
  /** Waitlist sales: holds offered to waiting shoppers (also counted in `claimed`). */
  offered: number;
  /** Shoppers who skipped the queue, and how many of them got a hold anyway (also in `claimed`). */
  jumpers: number;
  jumpersReserved: number;
  roomClient: RoomClientStats;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function choosePlan(random: Random): Plan {
  const r = random.next();
  if (r < 0.52) return 'pay:tok_visa';
  if (r < 0.6) return 'pay:tok_chargeDeclined';
  if (r < 0.68) return 'pay:tok_slow';
  if (r < 0.73) return 'pay-late:tok_visa'; // pays about when the hold ends: races the expiry
  if (r < 0.85) return 'cancel';
  return 'abandon';
}

/**
 * Shoppers arriving evenly at random over `arrivalSeconds`: each claims one unit (same
 * Idempotency-Key on every retry), thinks, then pays, cancels or lets the hold expire.
 * Every shopper's time is bounded by the retry budget of its two requests.
 */
export async function runCrowd(options: CrowdOptions): Promise<CrowdResult> {
  const { random, http, saleId } = options;
  const secret = new TextEncoder().encode(options.jwtSecret);
  const plans: Record<string, number> = {};
  const outcomes: Record<string, number> = {};
  let claimed = 0;
  let offered = 0;
  let jumpersReserved = 0;
  const roomClient: RoomClientStats = { calls: 0, retries: 0, gaveUp: 0, retriedOn: {} };
  const crowdStarted = Date.now();
  const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);

  const shoppers = Array.from({ length: options.shoppers }, (_, i) => {
    const plan = choosePlan(random);
    const arrivalMs = random.between(0, options.arrivalSeconds * 1000);
    const holdMs = options.holdSeconds * 1000;
    const thinkMs = plan.startsWith('pay-late')
      ? random.between(holdMs - 1_500, holdMs + 500)
      : random.between(300, holdMs * 0.5);
    const jumpers = options.waitingRoom && options.releasePolicy === 'waitlist' ? (options.queueJumpers ?? 0) : 0;
    const jumper = jumpers > 0 && random.next() < jumpers;
    return { id: `chaos-${options.seed}-${i}`, plan, arrivalMs, thinkMs, jumper };
  });

  const shop = async (shopper: (typeof shoppers)[number]): Promise<Outcome> => {
    await sleep(shopper.arrivalMs);
    let reservationId: string;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(shopper.id)
      .setIssuer(SHOPPER_TOKEN_SCOPE.issuer)
      .setAudience(SHOPPER_TOKEN_SCOPE.audience)
      .setIssuedAt()
      .setExpirationTime('3h')
      .sign(secret);
    if (shopper.jumper) {
      const jumped = await jumpTheQueue(token, shopper.id);
      if ('outcome' in jumped) return jumped.outcome;
      reservationId = jumped.reservationId;
      jumpersReserved++;
    } else {
      let ticket: QueueTicket | undefined;
      if (options.waitingRoom) {
        const entered = await enterQueue(token);
        if (typeof entered === 'string') return entered;
        ticket = entered;
      }
      const ticketHeader = ticket ? queueTicketHeader(ticket) : undefined;
      const claim = await http.call('POST', `/v1/sales/${saleId}/reservations`, {
        token,
        idempotencyKey: `checkout-${shopper.id}`,
        ...(ticketHeader && { headers: ticketHeader }),
      });
      if (!claim) return 'claim-gave-up';
      if (claim.status === 403) return 'not-admitted';
      if (claim.status === 409 && String(claim.body.type).endsWith('sold-out')) {
        // Behind a waiting room the queue is the waitlist (docs/DESIGN.md): a unit that comes back
        // admits the next queued shopper, so an admitted shopper told sold-out has nowhere to wait.
        if (options.releasePolicy !== 'waitlist' || options.waitingRoom) return 'sold-out';
        const offer = await waitForOffer(token, ticketHeader);
        if ('outcome' in offer) return offer.outcome;
        reservationId = offer.reservationId;
      } else if (claim.status !== 201) {
        return claim.status >= 500 ? 'claim-gave-up' : 'claim-refused';
      } else {
        reservationId = String(claim.body.id);
      }
    }
    claimed++;
    if (shopper.plan === 'abandon') return 'abandoned';
    await sleep(shopper.thinkMs);

    if (shopper.plan === 'cancel') {
      const answer = await http.call('POST', `/v1/reservations/${reservationId}/cancel`, { token });
      if (!answer || answer.status >= 500) return 'cancel-gave-up';
      if (answer.status === 200) return 'cancelled';
      // An earlier attempt may have gone through before the API died.
      return answer.body.reservationStatus === 'cancelled' ? 'cancelled' : 'cancel-refused';
    }
    const paymentMethod = shopper.plan.split(':')[1]!;
    const answer = await http.call('POST', `/v1/reservations/${reservationId}/payment`, { token, body: { paymentMethod } });
    if (!answer || answer.status >= 500) return 'payment-gave-up';
    if (answer.status === 202) return 'payment-accepted';
    if (String(answer.body.type).endsWith('hold-expired')) return 'payment-hold-expired';
    const status = String(answer.body.reservationStatus);
    return ['payment_pending', 'paid', 'payment_failed'].includes(status) ? 'payment-already-submitted' : 'payment-refused';
  };

  /*
   * The waiting-room client's calls (clients/waiting-room-client.ts) as a checkout page retries
   * them: no answer, 5xx or 429 is retried with backoff; another refusal is the answer.
   */
  async function withRetries<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      roomClient.calls++;
      try {
        return await call();
      } catch (error) {
        if (signal?.aborted) throw error;
        const transient = !(error instanceof WaitingRoomError) || error.status >= 500 || error.status === 429;
        if (!transient || attempt >= 5) {
          if (transient) roomClient.gaveUp++;
          throw error;
        }
        roomClient.retries++;
        count(roomClient.retriedOn, error instanceof WaitingRoomError ? String(error.status) : 'no answer');
        const backoff = Math.min(8_000, 300 * 2 ** (attempt + 1));
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }

  /*
   * Join the queue with the real client (a fresh challenge per attempt: an attempt whose answer
   * was lost to a kill may have spent its challenge, and the next one gets the same ticket, 200),
   * then follow the place with `pollPosition` (the server's `nextPollSeconds`) until admitted.
   */
  const queueWaitMs = 60_000 + options.holdSeconds * 3_000;
  async function enterQueue(token: string): Promise<QueueTicket | Outcome> {
    let ticket: QueueTicket;
    try {
      ticket = await withRetries(() => joinQueue(options.apiUrl, saleId, token));
    } catch {
      return 'queue-gave-up';
    }
    const deadline = AbortSignal.timeout(queueWaitMs);
    for (;;) {
      try {
        const view = await withRetries(() => pollPosition(options.apiUrl, saleId, token, { signal: deadline }), deadline);
        if (view.status === 'admitted') return ticket;
        return view.status === 'expired' ? 'queue-expired' : 'queue-sold-out';
      } catch {
        if (deadline.aborted) return 'queue-gave-up';
        // Out of retries while the API was down: start following again until the deadline.
        await sleep(1_000);
      }
    }
  }

  /*
   * A queue jumper (a script, not the checkout page): claims without a ticket (the room should
   * answer 403), then tries to join the waitlist directly every 2 s until it may (units-available
   * until the sale is sold out) or the arrivals plus two holds are over, and waits for an offer.
   * The room's answer is 409 `no-waitlist`: its queue is the waitlist.
   */
  async function jumpTheQueue(token: string, shopperId: string): Promise<{ reservationId: string } | { outcome: Outcome }> {
    const claim = await http.call('POST', `/v1/sales/${saleId}/reservations`, {
      token,
      idempotencyKey: `checkout-${shopperId}`,
    });
    if (claim?.status === 201) return { reservationId: String(claim.body.id) };
    const deadline = crowdStarted + options.arrivalSeconds * 1000 + 2 * options.holdSeconds * 1000;
    while (Date.now() < deadline) {
      const joined = await http.call('POST', `/v1/sales/${saleId}/waitlist`, { token });
      if (joined?.status === 201 || joined?.status === 200) return waitForOffer(token, undefined, true);
      if (joined?.status === 403) return { outcome: 'jumper-refused' };
      // A waiting-room sale has no waitlist beside its queue.
      if (joined?.status === 409 && String(joined.body.type).endsWith('no-waitlist')) return { outcome: 'jumper-refused' };
      if (joined && joined.status !== 409) return { outcome: 'waitlist-refused' };
      if (joined && !String(joined.body.type).endsWith('units-available')) return { outcome: 'waitlist-refused' };
      await sleep(2_000);
    }
    return { outcome: 'jumper-not-placed' };
  }

  /*
   * A shopper told sold-out on a waitlist sale joins the waitlist and polls their entry until a
   * hold is offered (its reservation id) or the load is over: the arrivals plus four holds.
   */
  const waitForOffer = async (
    token: string,
    headers?: Record<string, string>,
    joinedAlready = false,
  ): Promise<{ reservationId: string } | { outcome: Outcome }> => {
    if (!joinedAlready) {
      // The ticket goes along: an admitted shopper's proof, whether or not the API asks for it.
      const joined = await http.call('POST', `/v1/sales/${saleId}/waitlist`, { token, ...(headers && { headers }) });
      if (!joined || (joined.status !== 201 && joined.status !== 200)) return { outcome: 'waitlist-refused' };
    }
    const deadline = crowdStarted + options.arrivalSeconds * 1000 + 4 * options.holdSeconds * 1000;
    while (Date.now() < deadline) {
      const entry = await http.call('GET', `/v1/sales/${saleId}/waitlist/me`, { token });
      if (entry?.status === 200 && entry.body.status !== 'waiting') {
        if (entry.body.status !== 'offered') return { outcome: 'waitlist-not-offered' };
        offered++;
        return { reservationId: String(entry.body.reservationId) };
      }
      await sleep(1_000);
    }
    return { outcome: 'waitlist-not-offered' };
  };

  let done = 0;
  const progress = setInterval(
    () => options.say(`shoppers: ${done}/${options.shoppers} done, ${claimed} claimed; ${JSON.stringify(outcomes)}`),
    15_000,
  );
  try {
    await Promise.all(
      shoppers.map(async (shopper) => {
        count(plans, shopper.jumper ? `jumper ${shopper.plan}` : shopper.plan);
        const outcome = await shop(shopper).catch((error: unknown) => {
          options.say(`shopper ${shopper.id} failed: ${String(error)}`);
          return 'claim-gave-up' as const;
        });
        count(outcomes, shopper.jumper ? `jumper ${outcome}` : outcome);
        done++;
      }),
    );
  } finally {
    clearInterval(progress);
  }
  return {
    plans,
    outcomes,
    claimed,
    offered,
    jumpers: shoppers.filter((s) => s.jumper).length,
    jumpersReserved,
    roomClient,
  };
}
