/*
 * `/orders`: the signed-in shopper's reservations across every sale, newest first
 * (GET /v1/me/reservations), a page at a time: "Load more" asks for the page after the last one
 * shown with its `nextCursor`. The token is the checkout's (web/src/session.ts); without one the
 * page offers the same development sign-in.
 */
import type { OrderPage, OrderView } from '../../domain/order-history';
import type { ReservationStatus } from '../../domain/reservation';
import { ApiError, callApi } from './api';
import { wireDevSignIn } from './dev-sign-in';
import { clearSession, loadSession } from './session';
import { $, money, say, show } from './view';

/** Items per page: a phone screen or two. */
const PAGE_SIZE = 10;

const STATUS_LABELS: Record<ReservationStatus, string> = {
  held: 'Held for you',
  payment_pending: 'Payment pending',
  paid: 'Paid',
  expired: 'Expired',
  cancelled: 'Cancelled',
  payment_failed: 'Payment failed',
};

/** The cursor of the next page; null once the last page is shown. */
let nextCursor: string | null = null;
let loading = false;

function line(...parts: Array<string | Node>): HTMLParagraphElement {
  const element = document.createElement('p');
  element.className = 'order-line';
  for (const part of parts) {
    const span = document.createElement('span');
    span.append(part);
    element.append(span);
  }
  return element;
}

function time(label: string, iso: string): DocumentFragment {
  const fragment = document.createDocumentFragment();
  const element = document.createElement('time');
  element.dateTime = iso;
  element.textContent = new Date(iso).toLocaleString();
  fragment.append(`${label} `, element);
  return fragment;
}

/** One order: the sale (a link to its page), the status, the amount and the times that apply. */
function renderOrder(order: OrderView): HTMLLIElement {
  const item = document.createElement('li');
  item.className = `card order status-${order.status}`;
  item.dataset.reservationId = order.id;
  const title = document.createElement('h3');
  const link = document.createElement('a');
  link.href = `/sales/${encodeURIComponent(order.saleId)}`;
  link.textContent = order.saleName;
  title.append(link);
  const status = document.createElement('span');
  status.className = 'order-status';
  status.textContent = STATUS_LABELS[order.status];
  item.append(title, line(status, money(order.priceCents, order.currency)));
  if (order.payment && order.payment.refundedCents > 0)
    item.append(line('Refunded', money(order.payment.refundedCents, order.currency)));
  item.append(line(time('Reserved', order.createdAt)));
  if (order.paidAt) item.append(line(time('Paid', order.paidAt)));
  else if (order.endedAt) item.append(line(time('Ended', order.endedAt)));
  else item.append(line(time('Hold until', order.expiresAt)));
  return item;
}

function showError(text: string | undefined): void {
  $('#orders-error-text').textContent = text ?? '';
  show('#orders-error', text !== undefined);
}

/** The next page (the first when `fresh`), appended to the list. */
async function loadPage(fresh: boolean): Promise<void> {
  const session = loadSession();
  if (!session) return showSignedOut();
  if (loading) return;
  loading = true;
  const more = $<HTMLButtonElement>('#load-more');
  more.disabled = true;
  showError(undefined);
  show('#orders-loading', fresh);
  try {
    const cursor = fresh ? null : nextCursor;
    const query = `?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await callApi<OrderPage>(`/v1/me/reservations${query}`, { token: session.token });
    const list = $('#order-list');
    if (fresh) list.replaceChildren();
    list.append(...page.items.map(renderOrder));
    nextCursor = page.nextCursor;
    show('#orders-empty', list.childElementCount === 0);
    show('#load-more', nextCursor !== null);
  } catch (error) {
    if (error instanceof ApiError && error.problem.status === 401) {
      clearSession();
      say('Please sign in again.');
      return showSignedOut();
    }
    showError(`Your orders could not be loaded: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    loading = false;
    more.disabled = false;
    show('#orders-loading', false);
  }
}

function showSignedOut(): void {
  show('#signed-in', false);
  show('#orders', false);
  show('#sign-in', true);
  $<HTMLInputElement>('#shopper-id').focus();
}

function showSignedIn(shopperId: string): void {
  $('#shopper-name').textContent = shopperId;
  show('#sign-in', false);
  show('#signed-in', true);
  show('#orders', true);
  show('#orders-empty', false);
  show('#load-more', false);
  void loadPage(true);
}

function wire(): void {
  wireDevSignIn(showSignedIn, say);
  $('#sign-out').addEventListener('click', () => {
    clearSession();
    $('#order-list').replaceChildren();
    nextCursor = null;
    showSignedOut();
  });
  $('#load-more').addEventListener('click', () => void loadPage(false));
  $('#orders-retry').addEventListener('click', () => void loadPage($('#order-list').childElementCount === 0));
}

wire();
const session = loadSession();
if (session) showSignedIn(session.shopperId);
else showSignedOut();
