import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress } from 'smtp-server';

/** One message the sink accepted. */
export interface SunkMail {
  /** The `X-Notification-Key` header ('' when absent). */
  key: string;
  messageId: string;
  /** The envelope's recipients. */
  to: string[];
  subject: string;
  acceptedAt: number;
}

/** An SMTP reply that refuses a message: 5xx for good, 4xx for now. */
export interface SmtpRefusal {
  code: number;
  message: string;
}

export interface SlowSmtpOptions {
  /** How long the sink sits on each message after its data arrived, before it answers (default 0). */
  delayMs?: number;
  /** Called per recipient at RCPT TO; a refusal is answered instead of 250. */
  refuseRecipient?: (address: string) => SmtpRefusal | undefined;
  host?: string;
}

export interface SlowSmtp {
  /** `smtp://host:port`, for SMTP_URL. */
  smtpUrl: string;
  /** Every accepted message, in the order the sink answered 250. */
  accepted: SunkMail[];
  /** Messages whose data is in and whose answer is still being delayed. */
  inFlight(): number;
  /** Recipients refused at RCPT TO, with the reply code. */
  refused: Array<{ address: string; code: number; at: number }>;
  /** How many accepted messages carry each `X-Notification-Key`. */
  countByKey(): Map<string, number>;
  stop(): Promise<void>;
}

/**
 * A real SMTP server for tests (smtp-server, on a free port) that answers each message late, as
 * an overloaded or distant mail server does, and can refuse chosen recipients with a 4xx or 5xx
 * reply. Reusable: the mail tests and the chaos run's slow-SMTP phase start one each. Keep
 * `delayMs` below nodemailer's 6 s socket timeout (notifications/notifier.ts) unless a timeout
 * is what is being tested.
 */
export async function startSlowSmtp(options: SlowSmtpOptions = {}): Promise<SlowSmtp> {
  const host = options.host ?? '127.0.0.1';
  const delayMs = options.delayMs ?? 0;
  const accepted: SunkMail[] = [];
  const refused: SlowSmtp['refused'] = [];
  let inFlight = 0;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const refusal = options.refuseRecipient?.(address.address);
      if (!refusal) return callback();
      refused.push({ address: address.address, code: refusal.code, at: Date.now() });
      const error = Object.assign(new Error(refusal.message), { responseCode: refusal.code });
      callback(error);
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          inFlight++;
          try {
            if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
          } finally {
            inFlight--;
          }
          const key = mail.headers.get('x-notification-key');
          accepted.push({
            key: typeof key === 'string' ? key : '',
            messageId: mail.messageId ?? '',
            to: session.envelope.rcptTo.map((a) => a.address),
            subject: mail.subject ?? '',
            acceptedAt: Date.now(),
          });
          callback();
        })
        .catch((error: unknown) => callback(error instanceof Error ? error : new Error(String(error))));
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(0, host, () => resolve());
  });
  const port = (smtp.server.address() as AddressInfo).port;
  return {
    smtpUrl: `smtp://${host}:${port}`,
    accepted,
    refused,
    inFlight: () => inFlight,
    countByKey() {
      const counts = new Map<string, number>();
      for (const mail of accepted) counts.set(mail.key, (counts.get(mail.key) ?? 0) + 1);
      return counts;
    },
    stop: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
}
