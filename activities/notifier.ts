import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { NotificationOutcome } from '../domain/payment';

export interface Notification {
  /** `<reservationId>:<outcome>`: a sink delivers a key at most once. */
  key: string;
  reservationId: string;
  shopperId: string;
  outcome: NotificationOutcome;
  at: string;
}

export interface Notifier {
  send(notification: Notification): Promise<void>;
}

/** Development sink: one JSON line per notification in a file, each key written once. */
export function fileNotifier(file: string): Notifier {
  mkdirSync(path.dirname(file), { recursive: true });
  const sent = new Set<string>(
    existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as Notification).key)
      : [],
  );
  return {
    async send(notification) {
      if (sent.has(notification.key)) return;
      appendFileSync(file, `${JSON.stringify(notification)}\n`);
      sent.add(notification.key);
    },
  };
}

/** A sink that only logs, for processes that have no file to write. */
export function logNotifier(log: (message: string, meta: Record<string, unknown>) => void): Notifier {
  return {
    async send(notification) {
      log('notification', { ...notification });
    },
  };
}
