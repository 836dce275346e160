import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Random } from './random';

export interface Delivery {
  /** `X-Notification-Key`: `<reservationId>:<outcome>` or `<subject>:<kind>` (notifications/notifier.ts). */
  key: string;
  messageId: string;
  to: string;
  /** When the sink answered 250, i.e. when the message counts as delivered. */
  atMs: number;
}

export interface SlowSmtp {
  url: string;
  deliveries: Delivery[];
  /** Messages whose data was in when the sink was stopped. */
  inFlight(): number;
  stop(): Promise<void>;
}

/**
 * An SMTP server for the chaos run, in the chaos process itself (never killed): it reads each
 * message, waits 0.5–1.5 × `delayMs` before answering 250, and records it as delivered then —
 * whether or not the client is still listening, as a real server does once it has the final dot.
 */
export async function startSlowSmtp(options: { delayMs: number; random: Random }): Promise<SlowSmtp> {
  const deliveries: Delivery[] = [];
  let inFlight = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      inFlight++;
      simpleParser(stream)
        .then(async (mail) => {
          await new Promise((resolve) => setTimeout(resolve, options.delayMs * options.random.between(0.5, 1.5)));
          const key = mail.headers.get('x-notification-key');
          deliveries.push({
            key: typeof key === 'string' ? key : '',
            messageId: mail.messageId ?? '',
            to: Array.isArray(mail.to) ? mail.to.map((a) => a.text).join(', ') : (mail.to?.text ?? ''),
            atMs: Date.now(),
          });
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))))
        .finally(() => inFlight--);
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  // A client that gave up mid-message resets its socket; that is the client's business.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    deliveries,
    inFlight: () => inFlight,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
