import { SignJWT } from 'jose';
import { SHOPPER_TOKEN_SCOPE } from '../config/common';
import { solveChallenge } from '../clients/waiting-room-client';
import type { ReleasePolicy } from '../domain/reservation';
import type { ChaosHttp } from './http';
import type { Random } from './random';

export type Plan = 'pay:tok_visa' | 'pay:tok_chargeDeclined' | 'pay:tok_slow' | 'pay-late:tok_visa' | 'cancel' | 'abandon';

export type Outcome =
  | 'sold-out'
  | 'queue-gave-up'
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
}

export interface CrowdResult {
  plans: Record<string, number>;
  outcomes: Record<string, number>;
  claimed: number;
  /** Waitlist sales: holds offered to waiting shoppers (also counted in `claimed`). */
  offered: number;
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
  const crowdStarted = Date.now();
  const count = (into: Record<string, number>, key: string) => (into[key] = (into[key] ?? 0) + 1);

  const shoppers = Array.from({ length: options.shoppers }, (_, i) => {
    const plan = choosePlan(random);
    const arrivalMs = random.between(0, options.arrivalSeconds * 1000);
    const holdMs = options.holdSeconds * 1000;
    const thinkMs = plan.startsWith('pay-late')
      ? random.between(holdMs - 1_500, holdMs + 500)
      : random.between(300, holdMs * 0.5);
    return { id: `chaos-${options.seed}-${i}`, plan, arrivalMs, thinkMs };
  });

  const shop = async (shopper: (typeof shoppers)[number]): Promise<Outcome> => {
    await sleep(shopper.arrivalMs);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(shopper.id)
      .setIssuer(SHOPPER_TOKEN_SCOPE.issuer)
      .setAudience(SHOPPER_TOKEN_SCOPE.audience)
      .setIssuedAt()
      .setExpirationTime('3h')
      .sign(secret);
    let ticket: string | undefined;
    if (options.waitingRoom) {
      ticket = await enterQueue(token);
      if (!ticket) return 'queue-gave-up';
    }
    const claim = await http.call('POST', `/v1/sales/${saleId}/reservations`, {
      token,
      idempotencyKey: `checkout-${shopper.id}`,
      ...(ticket && { headers: { 'queue-ticket': ticket } }),
    });
    if (!claim) return 'claim-gave-up';
    if (claim.status === 403) return 'not-admitted';
    let reservationId: string;
    if (claim.status === 409 && String(claim.body.type).endsWith('sold-out')) {
      if (options.releasePolicy !== 'waitlist') return 'sold-out';
      const offer = await waitForOffer(token);
      if ('outcome' in offer) return offer.outcome;
      reservationId = offer.reservationId;
      offered++;
    } else if (claim.status !== 201) {
      return claim.status >= 500 ? 'claim-gave-up' : 'claim-refused';
    } else {
      reservationId = String(claim.body.id);
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
   * Join the queue (a fresh challenge per attempt: an attempt whose answer was lost to a kill may
   * have spent its challenge, and the next one gets the same ticket, 200), then poll queue/me
   * until admitted. A shopper still waiting when the room has nothing left to admit gives up.
   */
  const queueWaitMs = 60_000 + options.holdSeconds * 3_000;
  async function enterQueue(token: string): Promise<string | undefined> {
    let ticket: string | undefined;
    for (let attempt = 0; attempt < 4 && !ticket; attempt++) {
      const challenge = await http.call('GET', `/v1/sales/${saleId}/challenge`, { token });
      if (challenge?.status !== 200) continue;
      const nonce = await solveChallenge(String(challenge.body.challenge), Number(challenge.body.difficulty));
      const joined = await http.call('POST', `/v1/sales/${saleId}/queue`, {
        token,
        body: { challenge: challenge.body.challenge, nonce },
      });
      if (joined?.status === 201 || joined?.status === 200) ticket = String(joined.body.ticket);
    }
    if (!ticket) return undefined;
    const deadline = Date.now() + queueWaitMs;
    while (Date.now() < deadline) {
      const place = await http.call('GET', `/v1/sales/${saleId}/queue/me`, { token });
      if (place?.body.status === 'admitted') return ticket;
      if (place?.body.status === 'expired') return undefined;
      await sleep(1_000);
    }
    return undefined;
  }

  /*
   * A shopper told sold-out on a waitlist sale joins the waitlist and polls their entry until a
   * hold is offered (its reservation id) or the load is over: the arrivals plus four holds.
   */
  const waitForOffer = async (token: string): Promise<{ reservationId: string } | { outcome: Outcome }> => {
    const joined = await http.call('POST', `/v1/sales/${saleId}/waitlist`, { token });
    if (!joined || (joined.status !== 201 && joined.status !== 200)) return { outcome: 'waitlist-refused' };
    const deadline = crowdStarted + options.arrivalSeconds * 1000 + 4 * options.holdSeconds * 1000;
    while (Date.now() < deadline) {
      const entry = await http.call('GET', `/v1/sales/${saleId}/waitlist/me`, { token });
      if (entry?.status === 200 && entry.body.status !== 'waiting') {
        return entry.body.status === 'offered'
          ? { reservationId: String(entry.body.reservationId) }
          : { outcome: 'waitlist-not-offered' };
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
        count(plans, shopper.plan);
        const outcome = await shop(shopper).catch((error: unknown) => {
          options.say(`shopper ${shopper.id} failed: ${String(error)}`);
          return 'claim-gave-up' as const;
        });
        count(outcomes, outcome);
        done++;
      }),
    );
  } finally {
    clearInterval(progress);
  }
  return { plans, outcomes, claimed, offered };
}
