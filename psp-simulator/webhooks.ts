import type { Logger } from 'pino';
import type { Tunables } from './config';
import type { Random } from './random';
import type { WebhookEvent, WebhookStats } from './types';
import { signWebhook } from '../payments/webhook-signature';

export interface WebhookDispatcher {
  /** Queues `event` for delivery; never blocks and never throws. */
  emit(event: WebhookEvent): void;
  readonly stats: WebhookStats;
  /** Stops every pending delivery and retry. */
  close(): void;
}

export interface WebhookDeps {
  /** Empty: webhooks are disabled. */
  url: string;
  secret: string;
  tunables: Readonly<Tunables>;
  random: Random;
  logger: Logger;
}

const MAX_ATTEMPTS = 8;
const FIRST_BACKOFF_MS = 500;
const ATTEMPT_TIMEOUT_MS = 5_000;
/** A held-back (reordered) event goes out after the next event, or after this at the latest. */
const REORDER_MAX_HOLD_MS = 2_000;

interface Delivery {
  eventId: string;
  body: string;
  duplicate: boolean;
}

interface Held {
  delivery: Delivery;
  released: boolean;
  timer: NodeJS.Timeout;
}

/*
 * Delivery is at least once: retried on connection errors and non-2xx, 0.5 s doubling, 8 attempts
 * (about 64 s in all). Each attempt is signed anew with the current time, so a late retry still
 * passes the receiver's timestamp tolerance.
 */
export function createWebhookDispatcher(deps: WebhookDeps): WebhookDispatcher {
  const stats: WebhookStats = { delivered: 0, failedAttempts: 0, duplicatesSent: 0, lateSent: 0, reorderedSent: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let held: Held[] = [];
  let closed = false;

  const later = (ms: number, work: () => void): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!closed) work();
    }, ms);
    timers.add(timer);
    return timer;
  };

  const attempt = async (body: string): Promise<boolean> => {
    try {
      const response = await fetch(deps.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Signature': signWebhook(deps.secret, body, Date.now() / 1000) },
        body,
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok;
    } catch {
      return false;
    }
  };

  /** Resolves after the first attempt; retries continue in the background. */
  const send = async (delivery: Delivery, attemptNo = 1): Promise<void> => {
    if (closed) return;
    if (await attempt(delivery.body)) {
      stats.delivered += 1;
      return;
    }
    stats.failedAttempts += 1;
    if (attemptNo < MAX_ATTEMPTS) {
      later(FIRST_BACKOFF_MS * 2 ** (attemptNo - 1), () => void send(delivery, attemptNo + 1));
    } else {
      deps.logger.warn({ eventId: delivery.eventId, attempts: attemptNo }, 'webhook delivery abandoned');
    }
  };

  const dispatch = async (delivery: Delivery): Promise<void> => {
    await send(delivery);
    if (delivery.duplicate && !closed) {
      stats.duplicatesSent += 1;
      await send(delivery);
    }
  };

  const release = (entry: Held) => {
    if (entry.released) return;
    entry.released = true;
    clearTimeout(entry.timer);
    timers.delete(entry.timer);
    held = held.filter((h) => h !== entry);
    stats.reorderedSent += 1;
    void dispatch(entry.delivery);
  };

  return {
    stats,
    emit: (event) => {
      if (!deps.url || closed) return;
      const { tunables, random } = deps;
      const delivery: Delivery = {
        eventId: event.id,
        body: JSON.stringify(event),
        duplicate: random() < tunables.webhookDuplicateRate,
      };
      const late = random() < tunables.webhookLateRate;
      if (random() < tunables.webhookReorderRate) {
        const entry: Held = { delivery, released: false, timer: later(REORDER_MAX_HOLD_MS, () => release(entry)) };
        held.push(entry);
        return;
      }
      const overtaken = held;
      held = [];
      later(late ? tunables.webhookLateMs : tunables.webhookDelayMs, () => {
        if (late) stats.lateSent += 1;
        void dispatch(delivery).then(() => overtaken.forEach(release));
      });
    },
    close: () => {
      closed = true;
      timers.forEach(clearTimeout);
      timers.clear();
    },
  };
}
