import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type { ComposedEmail } from './emails';

/** A composed message to one shopper. */
export interface ShopperNotice extends ComposedEmail {
  /**
   * What the notice is about, once: `<reservationId>:<outcome>` for an outcome, `<subject>:<kind>`
   * for a dispatched notice. Also the `X-Notification-Key` header, and the Message-ID's local part.
   */
  key: string;
  shopperId: string;
}

/**
 * The one way the worker tells a shopper anything: the outcome activity (activities/outcome-notice.ts)
 * and the notification dispatcher (worker/notification-dispatcher.ts) both send through it. A
 * notifier delivers what it is given; sending each key once is the callers' job (both claim the
 * notice's row in Postgres first), so a send after a lost acknowledgement repeats it, with the
 * same Message-ID.
 */
export interface Notifier {
  /** Rejects with `MailRefusedError` when the mail server refused the message for good. */
  send(notice: ShopperNotice): Promise<void>;
}

/**
 * The mail server refused the message with a permanent (5xx) reply: sending it again gets the
 * same answer. Anything else a send throws (a 4xx reply, a refused connection, a timeout) may pass.
 */
export class MailRefusedError extends Error {
  override name = 'MailRefusedError';
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** nodemailer's SMTP errors carry the server's reply code in `responseCode`. */
function permanentRefusal(error: unknown): MailRefusedError | undefined {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  if (typeof code !== 'number' || code < 500 || code > 599) return undefined;
  return new MailRefusedError(code, error instanceof Error ? error.message : `SMTP ${code}`);
}

export interface SmtpNotifierConfig {
  /** e.g. `smtp://127.0.0.1:1025` (the development catcher) or `smtps://user:pass@host:465`. */
  smtpUrl: string;
  from: string;
  /** Shoppers are known only by their token's `sub`; their address is `<sub>@<domain>`. */
  shopperDomain: string;
}

export function smtpNotifier(config: SmtpNotifierConfig): Notifier {
  const transport = smtpTransport(config.smtpUrl);
  return {
    async send(notice) {
      try {
        await sendMail(notice);
      } catch (error) {
        throw permanentRefusal(error) ?? error;
      }
    },
  };

  async function sendMail(notice: ShopperNotice) {
    await transport.sendMail({
      from: config.from,
      to: shopperAddress(notice.shopperId, config.shopperDomain),
      // Same key, same Message-ID: a resend after a lost acknowledgement is recognisable.
      messageId: noticeMessageId(notice.key, config.shopperDomain),
      headers: { 'X-Notification-Key': notice.key },
      subject: notice.subject,
      text: notice.text,
      html: notice.html,
    });
  }
}

/** Development notifier without SMTP: one JSON line per notice in `file`. */
export function fileNotifier(file: string): Notifier {
  mkdirSync(path.dirname(file), { recursive: true });
  return {
    async send(notice) {
      appendFileSync(
        file,
        `${JSON.stringify({ key: notice.key, shopperId: notice.shopperId, subject: notice.subject, at: new Date().toISOString() })}\n`,
      );
    },
  };
}

/**
 * An SMTP transport for `smtp://` or `smtps://user:pass@host:port`. One send must end inside the
 * notify activity's 10 s attempt (workflows/activity-stubs.ts) and inside the dispatcher's lease.
 */
function smtpTransport(smtpUrl: string) {
  const url = new URL(smtpUrl);
  return nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'smtps:' ? 465 : 587)),
    secure: url.protocol === 'smtps:',
    ...(url.username && { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } }),
    connectionTimeout: 3_000,
    greetingTimeout: 3_000,
    socketTimeout: 6_000,
  });
}

/**
 * A development address for a token's `sub`, one mailbox per shopper: lower-case letters, digits
 * and `-` stay, every other UTF-16 unit (upper case too, as many servers ignore case, and `+`, which
 * many read as a sub-address) becomes `_` and four hex digits, so `a/b` and `a_b` cannot meet.
 */
export function shopperAddress(shopperId: string, domain: string): string {
  const local = shopperId.replace(/[^a-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${local}@${domain}`;
}

/**
 * The Message-ID of a notice's every copy: `:` becomes `.`, letters, digits, `_` and `-` stay, any
 * other UTF-16 unit becomes `=` and four hex digits, so two keys never share one
 * (`<reservationId>.paid@domain` for an outcome).
 */
export function noticeMessageId(key: string, domain: string): string {
  const local = key.replace(/[^A-Za-z0-9_-]/g, (c) => (c === ':' ? '.' : `=${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return `<${local}@${domain}>`;
}
