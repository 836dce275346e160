import type { DispatchedKind } from '../db/queries/due-notifications';
import type { NotificationOutcome } from '../domain/payment';

export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
}

/** What a notice's e-mail names. */
export interface NoticeDetails {
  saleName: string;
  /** The reservation's unit; absent for a sale's notice (`sold-out`). */
  unitId?: number;
  /** The hold's end (dispatched notices of a reservation). */
  expiresAt?: Date;
  amountCents: number;
  currency: string;
}

const OUTCOME_HEADLINES: Record<NotificationOutcome, string> = {
  paid: 'Your order is confirmed',
  payment_failed: 'Your payment was declined',
  expired: 'Your hold has expired',
  cancelled: 'Your reservation is cancelled',
};

const OUTCOME_BODIES: Record<NotificationOutcome, string> = {
  paid: 'We received your payment. The unit is yours.',
  payment_failed: 'Your card was declined, so the unit went back on sale. You were not charged.',
  expired: 'You did not pay within the hold, so the unit went back on sale. You were not charged.',
  cancelled: 'You cancelled the reservation, so the unit went back on sale. You were not charged.',
};

const NOTICE_HEADLINES: Record<DispatchedKind, string> = {
  'hold-reminder': 'Your hold ends in a minute',
  'waitlist-offer': 'A unit is waiting for you',
  'sold-out': 'The sale has sold out',
};

function noticeBody(kind: DispatchedKind, details: NoticeDetails): string {
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

/** The e-mail telling the shopper how the reservation ended (the workflow's outcome notice). */
export function composeOutcomeEmail(outcome: NotificationOutcome, details: NoticeDetails): ComposedEmail {
  return compose(OUTCOME_HEADLINES[outcome], OUTCOME_BODIES[outcome], details);
}

/** The e-mail of a dispatched notice (worker/notification-dispatcher.ts): reminder, waitlist offer, sold out. */
export function composeNoticeEmail(kind: DispatchedKind, details: NoticeDetails): ComposedEmail {
  return compose(NOTICE_HEADLINES[kind], noticeBody(kind, details), details);
}

/** Subject, plain text and a simple HTML body. */
function compose(headline: string, body: string, details: NoticeDetails): ComposedEmail {
  const amount = new Intl.NumberFormat('en', { style: 'currency', currency: details.currency }).format(details.amountCents / 100);
  const lines = [body, `Sale: ${details.saleName}`];
  if (details.unitId !== undefined) lines.push(`Unit: #${details.unitId}`, `Amount: ${amount}`);
  return {
    subject: `${headline}: ${details.saleName}`,
    text: `${headline}\n\n${lines.join('\n')}\n`,
    html: `<h1>${escapeHtml(headline)}</h1>\n${lines.map((line) => `<p>${escapeHtml(line)}</p>`).join('\n')}\n`,
  };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
