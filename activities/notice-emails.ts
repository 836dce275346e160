import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { DispatchedKind } from '../db/queries/due-notifications';
import { escapeHtml, shopperAddress, smtpTransport } from './email-notifier';

/** What a dispatched notice's e-mail names. */
export interface NoticeDetails {
  saleName: string;
  /** The reservation's unit and hold end; absent for a sale's notice (`sold-out`). */
  unitId?: number;
  expiresAt?: Date;
  amountCents: number;
  currency: string;
}

export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

const HEADLINES: Record<DispatchedKind, string> = {
  'hold-reminder': 'Your hold ends in a minute',
  'waitlist-offer': 'A unit is waiting for you',
  'sold-out': 'The sale has sold out',
};

function body(kind: DispatchedKind, details: NoticeDetails): string {
  const until = details.expiresAt ? ` until ${details.expiresAt.toISOString().slice(11, 19)} UTC` : '';
  switch (kind) {
    case 'hold-reminder':
      return `The unit we are holding for you is yours to pay for${until}. After that it goes back on sale.`;
    case 'waitlist-offer':
      return `You were next on the waitlist and a unit came back. We are holding it for you${until}; pay for it before then to make it yours.`;
    case 'sold-out':
      return 'Every unit has been sold, so your place in the queue will not reach the sale. You were not charged.';
  }
}

/** The shopper's e-mail for a dispatched notice: subject, plain text and a simple HTML body. */
export function composeNoticeEmail(kind: DispatchedKind, details: NoticeDetails): ComposedEmail {
  const amount = new Intl.NumberFormat('en', { style: 'currency', currency: details.currency }).format(details.amountCents / 100);
  const subject = `${HEADLINES[kind]}: ${details.saleName}`;
  const lines = [body(kind, details), `Sale: ${details.saleName}`];
  if (details.unitId !== undefined) lines.push(`Unit: #${details.unitId}`, `Amount: ${amount}`);
  const text = `${HEADLINES[kind]}\n\n${lines.join('\n')}\n`;
  const html = `<h1>${escapeHtml(HEADLINES[kind])}</h1>\n${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}\n`;
  return { subject, text, html };
}

export interface OutgoingNotice extends ComposedEmail {
  /** `<subject>:<kind>`, also the `X-Notification-Key` header. */
  key: string;
  shopperId: string;
}

/** Where the notification dispatcher hands a notice: SMTP, or a file when no SMTP server is configured. */
export interface NoticeSink {
  send(notice: OutgoingNotice): Promise<void>;
}

export function smtpNoticeSink(config: { smtpUrl: string; from: string; shopperDomain: string }): NoticeSink {
  const transport = smtpTransport(config.smtpUrl);
  return {
    async send(notice) {
      await transport.sendMail({
        from: config.from,
        to: shopperAddress(notice.shopperId, config.shopperDomain),
        // Same key, same Message-ID: a resend after a lost acknowledgement is recognisable.
        messageId: `<${notice.key.replace(/[^A-Za-z0-9._-]/g, '.')}@${config.shopperDomain}>`,
        headers: { 'X-Notification-Key': notice.key },
        subject: notice.subject,
        text: notice.text,
        html: notice.html,
      });
    },
  };
}

/** Development sink without SMTP: one JSON line per notice. */
export function fileNoticeSink(file: string): NoticeSink {
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
