/*
 * The waiting-room step of the checkout: join the sale's queue by solving its proof-of-work in
 * the browser (with a progress bar), then follow the place live over Server-Sent Events
 * (GET /v1/sales/:saleId/queue/me/events) until admitted, or told the sale is sold out. The protocol is the waiting room's own
 * (clients/waiting-room-client.ts, docs/DESIGN.md "Waiting room").
 */
import { fetchChallenge, solveChallenge, WaitingRoomError, type QueueTicket } from '../../clients/waiting-room-client';
import type { SaleView } from '../../domain/reservation';
import type { QueuePositionView } from '../../domain/waiting-room';
import { ApiError, callApi, serverOffsetMs } from './api';
import { countDown, formatRemaining } from './countdown';
import { openEventStream } from './event-stream';
import { forgetTicket, rememberedTicket, rememberTicket, type Session } from './session';
import { $, showOnly } from './view';

export interface WaitingRoomStep {
  sale: SaleView;
  session: Session;
  onAdmitted(): void;
  onSignedOut(): void;
  say(message: string | undefined): void;
}

function status(text: string): void {
  $('#waiting-room-status').textContent = text;
}

let stopTick: () => void = () => undefined;

/** The queue's answers after which there is nothing to wait for: what the page shows and says. */
const ENDINGS: Record<'expired' | 'left' | 'sold-out', { status: string; say: string }> = {
  expired: {
    status: 'Your turn came and ran out before you reserved.',
    say: 'Your turn in the waiting room ran out. Reload the page to join the queue again.',
  },
  left: { status: 'You left the waiting room of this sale.', say: 'You left the queue of this sale.' },
  'sold-out': { status: 'Sold out: every unit has been sold, so the queue has closed.', say: 'This sale is sold out.' },
};

function showPlace(sale: SaleView, view: QueuePositionView): void {
  stopTick();
  if (view.position === null) {
    // Before the start the place is not drawn yet: count down to the draw.
    stopTick = countDown(
      Date.parse(sale.startsAt),
      serverOffsetMs(),
      (left) =>
        status(
          `You are in the queue. The order is drawn at random when the sale starts (in ${formatRemaining(left)}); everyone who joined before then has the same chance.`,
        ),
      () => status('You are in the queue; your place is being given out…'),
    );
    return;
  }
  const wait = view.estimatedWaitSeconds === null ? '' : ` About ${formatRemaining(view.estimatedWaitSeconds * 1000)} to go.`;
  status(`Your place in the queue: ${view.position}. Ahead of you: ${view.ahead ?? 0}.${wait}`);
}

/** Solves the challenge (a progress bar tracks the expected work) and joins: the signed ticket. */
async function join(step: WaitingRoomStep, signal: AbortSignal): Promise<string> {
  const progress = $<HTMLProgressElement>('#waiting-room-progress');
  progress.hidden = false;
  progress.value = 0;
  status('Joining the waiting room: your browser is solving a small puzzle that keeps bots out…');
  const { challenge, difficulty } = await fetchChallenge('', step.sale.id, step.session.token);
  // On average 2^difficulty attempts; the bar fills towards that and waits at 95 % past it.
  const expected = 2 ** difficulty;
  const nonce = await solveChallenge(challenge, difficulty, {
    signal,
    progressEvery: Math.max(64, Math.floor(expected / 50)),
    onProgress: (attempts) => (progress.value = Math.min(95, (100 * attempts) / expected)),
  });
  progress.value = 100;
  const ticket = await callApi<QueueTicket>(`/v1/sales/${step.sale.id}/queue`, {
    method: 'POST',
    token: step.session.token,
    body: { challenge, nonce },
  });
  progress.hidden = true;
  rememberTicket(step.sale.id, step.session.shopperId, ticket.ticket);
  return ticket.ticket;
}

export function enterWaitingRoom(step: WaitingRoomStep): { stop(): void } {
  showOnly('waiting-room');
  const abort = new AbortController();
  let stopStream = () => {};
  const { sale, session } = step;

  const follow = () => {
    stopStream = openEventStream({
      url: `/v1/sales/${sale.id}/queue/me/events`,
      token: session.token,
      onEvent: ({ event, data }) => {
        if (event !== 'position') return;
        const view = JSON.parse(data) as QueuePositionView;
        if (view.status === 'admitted') {
          stopTick();
          step.onAdmitted();
          return 'done';
        }
        const ended = view.status === 'waiting' ? undefined : ENDINGS[view.status];
        if (ended) {
          stopTick();
          forgetTicket(sale.id, session.shopperId);
          status(ended.status);
          step.say(ended.say);
          return 'done';
        }
        showPlace(sale, view);
      },
      onError: (statusCode) => {
        if (statusCode === 401) step.onSignedOut();
        if (statusCode === 404) {
          // Not in this queue (another tab's ticket, or a fresh database): join again.
          forgetTicket(sale.id, session.shopperId);
          void start();
        }
        return statusCode === 401 || statusCode === 404 ? 'stop' : undefined;
      },
    }).stop;
  };

  const start = async () => {
    try {
      if (!rememberedTicket(sale.id, session.shopperId)) await join(step, abort.signal);
      if (!abort.signal.aborted) follow();
    } catch (error) {
      if (abort.signal.aborted) return;
      const statusCode = error instanceof ApiError ? error.problem.status : error instanceof WaitingRoomError ? error.status : 0;
      if (statusCode === 401) return step.onSignedOut();
      step.say(`Could not join the waiting room: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  void start();

  return {
    stop() {
      abort.abort();
      stopTick();
      stopStream();
    },
  };
}
