import nodemailer from 'nodemailer';
import type { Queryable } from '../db/pool';
import {
  claimNotification,
  markNotificationSent,
  notificationDetails,
  type NotificationDetails,
} from '../db/queries/notification-claims';
import type { NotificationOutcome } from '../domain/payment';
import type { Notification, Notifier } from './notifier';

export interface EmailNotifierConfig {
  /** e.g. `smtp://127.0.0.1:1025` (the development catcher) or `smtps://user:pass@host:465`. */
  smtpUrl: string;
  from: string;
  /** Shoppers are known only by their token's `sub`; their address is `<sub>@<domain>`. */
  shopperDomain: string;
  /** How long a claimant owns a notice before another may send it (see migrations/0004). */
  leaseSeconds: number;
  /** Called once a notice went out (the worker counts them by kind). */
  onSent?: (kind: NotificationOutcome) => void;
}

/** Thrown while another worker holds the notice's lease; the activity's retry comes back later. */
export class NotificationInFlightError extends Error {
  override name = 'NotificationInFlightError';
}

const HEADLINES: Record<NotificationOutcome, string> = {
  paid: 'Your order is confirmed',
  payment_failed: 'Your payment was declined',
  expired: 'Your hold has expired',
  cancelled: 'Your reservation is cancelled',
};

const BODIES: Record<NotificationOutcome, string> = {
  paid: 'We received your payment. The unit is yours.',
  payment_failed: 'Your card was declined, so the unit went back on sale. You were not charged.',
  expired: 'You did not pay within the hold, so the unit went back on sale. You were not charged.',
  cancelled: 'You cancelled the reservation, so the unit went back on sale. You were not charged.',
};

/** The shopper's e-mail: subject, plain text and a simple HTML body. */
export function composeOutcomeEmail(outcome: NotificationOutcome, details: NotificationDetails) {
  const amount = new Intl.NumberFormat('en', { style: 'currency', currency: details.currency }).format(details.amountCents / 100);
  const subject = `${HEADLINES[outcome]}: ${details.saleName}`;
  const lines = [BODIES[outcome], `Sale: ${details.saleName}`, `Unit: #${details.unitId}`, `Amount: ${amount}`];
  const text = `${HEADLINES[outcome]}\n\n${lines.join('\n')}\n`;
  const html = `<h1>${escapeHtml(HEADLINES[outcome])}</h1>\n${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}\n`;
  return { subject, text, html };
}

/**
 * Outcome notices by e-mail over SMTP, once per reservation and outcome across every worker:
 * the notice is claimed in Postgres with a lease, sent, then marked sent. A worker that dies
 * between sending and marking leaves the claim to lapse, and a retry sends again: at-least-once,
 * because a shopper who is never told their card was charged is worse off than one told twice.
 * Both copies carry the same Message-ID (derived from the key), so the duplicate is recognisable.
 */
export function emailNotifier(db: Queryable, config: EmailNotifierConfig): Notifier {
  const transport = smtpTransport(config.smtpUrl);
  return {
    async send(notification: Notification) {
      const { reservationId, outcome } = notification;
      const claim = await claimNotification(db, reservationId, outcome, config.leaseSeconds);
      if (claim === 'sent') return;
      if (claim === 'in_flight') throw new NotificationInFlightError(`notice ${notification.key} is being sent elsewhere`);
      const details = await notificationDetails(db, reservationId);
      if (!details) throw new Error(`reservation ${reservationId} does not exist`);
      await transport.sendMail({
        from: config.from,
        to: shopperAddress(notification.shopperId, config.shopperDomain),
        messageId: `<${reservationId}.${outcome}@${config.shopperDomain}>`,
        headers: { 'X-Notification-Key': notification.key },
        ...composeOutcomeEmail(outcome, details),
      });
      await markNotificationSent(db, reservationId, outcome);
      config.onSent?.(outcome);
    },
  };
}

/**
 * An SMTP transport for `smtp://` or `smtps://user:pass@host:port`. One send must end inside the
 * notify activity's 10 s attempt (workflows/activity-stubs.ts) and inside the dispatcher's lease.
 */
export function smtpTransport(smtpUrl: string) {
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

/** A development address for a token's `sub`; the local part keeps only characters SMTP accepts unquoted. */
export function shopperAddress(shopperId: string, domain: string): string {
  return `${shopperId.replace(/[^A-Za-z0-9._+-]/g, '_')}@${domain}`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
