/*
 * `/sales/:saleId`: the checkout. Sign in (development sign-in), wait for the start, reserve one
 * unit, pay within the hold, see the outcome. The reservation is followed over Server-Sent Events
 * (GET /v1/reservations/:id/events); nothing here polls. A sold-out sale whose release policy is
 * `waitlist` offers to join its waitlist and follows the place over GET …/waitlist/me/events until a
 * released unit is offered: the offer is a hold like any other.
 */
import type { ReservationView, SaleView, WaitlistEntryView } from '../../domain/reservation';
import { ApiError, callApi, serverOffsetMs } from './api';
import { countDown, formatRemaining } from './countdown';
import { wireDevSignIn } from './dev-sign-in';
import { openEventStream } from './event-stream';
import {
  clearSession,
  forgetReservation,
  loadSession,
  rememberedReservation,
  rememberReservation,
  rememberedTicket,
  type Session,
} from './session';
import { $, money, say, show, showOnly } from './view';
import { enterWaitingRoom } from './waiting-room';

const saleId = decodeURIComponent(window.location.pathname.split('/').filter(Boolean)[1] ?? '');
let sale: SaleView | undefined;
let stopTimer: () => void = () => undefined;
let stopStream: () => void = () => undefined;

function renderSale(view: SaleView): void {
  sale = view;
  document.title = `${view.name} · Flash sale`;
  $('#sale-name').textContent = view.name;
  $('#sale-price').textContent = money(view.priceCents, view.currency);
  $('#count-available').textContent = String(view.available);
  $('#count-held').textContent = String(view.held);
  $('#count-sold').textContent = String(view.sold);
  $('#pay-button').textContent = `Pay ${money(view.priceCents, view.currency)}`;
}

async function refreshSale(): Promise<void> {
  try {
    renderSale(await callApi<SaleView>(`/v1/sales/${encodeURIComponent(saleId)}`));
  } catch (error) {
    if (error instanceof ApiError && !sale) {
      $('#sale-name').textContent = error.problem.status === 404 ? 'No such sale' : 'The sale cannot be shown';
      say(error.message);
    }
  }
}

/** What the signed-in shopper sees next: their reservation if they have one, else the countdown or the claim. */
async function nextStep(): Promise<void> {
  stopTimer();
  const session = loadSession();
  if (!session) {
    show('#signed-in', false);
    showOnly('sign-in');
    $<HTMLInputElement>('#shopper-id').focus();
    return;
  }
  $('#shopper-name').textContent = session.shopperId;
  show('#signed-in', true);
  const reservationId = rememberedReservation(saleId, session.shopperId);
  if (reservationId) {
    try {
      return followReservation(await callApi<ReservationView>(`/v1/reservations/${reservationId}`, { token: session.token }));
    } catch (error) {
      if (handleAuthError(error)) return;
      if (!(error instanceof ApiError) || error.problem.status !== 404)
        return say(error instanceof Error ? error.message : String(error));
      forgetReservation(saleId, session.shopperId);
    }
  }
  if (!sale) return;
  if (sale.waitingRoom) return queueUp(session);
  const startsAt = Date.parse(sale.startsAt);
  if (startsAt > Date.now() + serverOffsetMs()) return waitForStart(startsAt);
  if (sale.releasePolicy === 'waitlist' && (await resumeWaitlist(session))) return;
  showClaim();
}

/** A sale with a waiting room: join it (proof of work), follow the place live, claim once admitted. */
function queueUp(session: Session): void {
  stopStream();
  stopStream = enterWaitingRoom({
    sale: sale!,
    session,
    onAdmitted: showClaim,
    onSignedOut: () => handleAuthError(new ApiError({ type: 'unauthorized', title: '', status: 401, detail: '' })),
    say,
  }).stop;
}

function waitForStart(startsAt: number): void {
  showOnly('countdown');
  const at = $('#starts-at');
  at.textContent = new Date(startsAt).toLocaleString();
  at.setAttribute('datetime', new Date(startsAt).toISOString());
  stopTimer = countDown(
    startsAt,
    serverOffsetMs(),
    (left) => ($('#starts-in').textContent = formatRemaining(left)),
    () => {
      void refreshSale();
      showClaim();
    },
  );
}

// A sale with a waiting room reaches this only once the shopper is admitted (queueUp); the claim
// then carries the admission as `Queue-Ticket`.
function showClaim(): void {
  showOnly('claim');
  const button = $<HTMLButtonElement>('#claim-button');
  button.disabled = false;
  $('#claim-hint').textContent = sale ? `${sale.available} of ${sale.units} left when you opened the page` : '';
}

async function claim(): Promise<void> {
  const session = loadSession();
  if (!session) return nextStep();
  const button = $<HTMLButtonElement>('#claim-button');
  button.disabled = true;
  say(undefined);
  try {
    const reservation = await callApi<ReservationView>(`/v1/sales/${encodeURIComponent(saleId)}/reservations`, {
      method: 'POST',
      token: session.token,
      // One key per attempt: a retried request (a lost answer) finds the same reservation.
      headers: { 'Idempotency-Key': crypto.randomUUID(), ...queueTicketHeader(session) },
    });
    rememberReservation(saleId, session.shopperId, reservation.id);
    void refreshSale();
    followReservation(reservation);
  } catch (error) {
    button.disabled = false;
    if (handleAuthError(error) || !(error instanceof ApiError)) return;
    if (error.code === 'already-reserved' && typeof error.problem.reservationId === 'string') {
      rememberReservation(saleId, session.shopperId, error.problem.reservationId);
      return nextStep();
    }
    if (error.code === 'not-admitted' && sale?.waitingRoom) {
      say('Your turn in the waiting room is not here yet (or ran out).');
      return queueUp(session);
    }
    if (error.code === 'sale-not-started' && typeof error.problem.startsAt === 'string') {
      return waitForStart(Date.parse(error.problem.startsAt));
    }
    if (error.code === 'sold-out') {
      void refreshSale();
      // A sale with a waiting room has no waitlist: its queue is one (docs/DESIGN.md, "Waiting room").
      if (sale?.releasePolicy === 'waitlist' && !sale.waitingRoom) return offerWaitlist();
      say('Sold out for now: every unit is held or sold. Units come back when holds expire, so try again in a moment.');
      return;
    }
    say(error.message);
  }
}

/** Sold out on a waitlist sale: offer to join the waitlist. */
function offerWaitlist(): void {
  showOnly('waitlist');
  $('#waitlist-title').textContent = 'Sold out';
  $('#waitlist-status').textContent =
    'Every unit is held or sold. Join the waitlist and a unit that comes back is offered to you as a hold.';
  const button = $<HTMLButtonElement>('#waitlist-join');
  button.hidden = false;
  button.disabled = false;
}

async function joinWaitlist(): Promise<void> {
  const session = loadSession();
  if (!session) return nextStep();
  const button = $<HTMLButtonElement>('#waitlist-join');
  button.disabled = true;
  say(undefined);
  try {
    followWaitlist(
      await callApi<WaitlistEntryView>(`/v1/sales/${encodeURIComponent(saleId)}/waitlist`, {
        method: 'POST',
        token: session.token,
      }),
    );
  } catch (error) {
    button.disabled = false;
    if (handleAuthError(error)) return;
    say(error instanceof Error ? error.message : String(error));
  }
}

/** A shopper back on the page who is still on the waitlist (or was just offered a unit) goes on from there. */
async function resumeWaitlist(session: Session): Promise<boolean> {
  try {
    const entry = await callApi<WaitlistEntryView>(`/v1/sales/${encodeURIComponent(saleId)}/waitlist/me`, {
      token: session.token,
    });
    if (entry.status !== 'waiting' && entry.status !== 'offered') return false;
    followWaitlist(entry);
    return true;
  } catch (error) {
    return handleAuthError(error);
  }
}

/** Shows the shopper's place on the waitlist live; an offer switches to the hold it carries. */
function followWaitlist(entry: WaitlistEntryView): void {
  stopStream();
  if (renderWaitlist(entry) === 'done') return;
  const session = loadSession();
  if (!session) return;
  stopStream = openEventStream({
    url: `/v1/sales/${encodeURIComponent(saleId)}/waitlist/me/events`,
    token: session.token,
    onEvent: ({ event, data }) => {
      if (event !== 'entry') return;
      return renderWaitlist(JSON.parse(data) as WaitlistEntryView);
    },
    onError: (status) => (status === 401 || status === 404 ? 'stop' : undefined),
  }).stop;
}

function renderWaitlist(entry: WaitlistEntryView): 'done' | void {
  if (entry.status === 'offered' && entry.reservationId) {
    const session = loadSession();
    if (session) rememberReservation(saleId, session.shopperId, entry.reservationId);
    void refreshSale();
    // The offer is a hold like a claim's: its own stream shows the countdown and the outcome.
    void nextStep();
    return 'done';
  }
  showOnly('waitlist');
  $('#waitlist-join').hidden = true;
  if (entry.status === 'waiting') {
    $('#waitlist-title').textContent = 'On the waitlist';
    $('#waitlist-status').textContent =
      entry.position === 1
        ? 'You are next: the next unit that comes back is yours to buy.'
        : `You are number ${entry.position} on the waitlist.`;
    return;
  }
  $('#waitlist-title').textContent = 'Your waitlist turn has passed';
  $('#waitlist-status').textContent = 'Your turn came and went, so nothing more will be offered to you from the waitlist.';
  return 'done';
}

function queueTicketHeader(session: Session): Record<string, string> {
  const ticket = sale?.waitingRoom ? rememberedTicket(saleId, session.shopperId) : undefined;
  return ticket ? { 'Queue-Ticket': ticket } : {};
}

/** Shows the reservation and keeps it up to date from its event stream until it is final. */
function followReservation(reservation: ReservationView): void {
  render(reservation);
  stopStream();
  if (isFinal(reservation)) return;
  const session = loadSession();
  if (!session) return;
  stopStream = openEventStream({
    url: `/v1/reservations/${reservation.id}/events`,
    token: session.token,
    onEvent: ({ event, data }) => {
      if (event !== 'reservation') return;
      const view = JSON.parse(data) as ReservationView;
      render(view);
      if (isFinal(view)) {
        void refreshSale();
        return 'done';
      }
    },
    onError: (status) => (status === 401 || status === 404 ? 'stop' : undefined),
  }).stop;
}

function isFinal(reservation: ReservationView): boolean {
  return ['paid', 'expired', 'cancelled', 'payment_failed'].includes(reservation.status);
}

let shown: string | undefined;

function render(reservation: ReservationView): void {
  const key = `${reservation.id}:${reservation.status}:${reservation.expiresAt}:${reservation.payment?.status ?? ''}`;
  if (key === shown) return;
  shown = key;
  stopTimer();
  switch (reservation.status) {
    case 'held':
    case 'payment_pending':
      return renderHold(reservation);
    case 'paid':
      return outcome('paid', 'Paid: it is yours', `Unit ${reservation.unitId} is yours. A confirmation is on its way by e-mail.`);
    case 'expired':
      return outcome('failed', 'Your hold expired', 'The time to pay ran out and the unit went back on sale.');
    case 'payment_failed':
      return outcome(
        'failed',
        'Your card was declined',
        `The payment did not go through (${reservation.payment?.failureReason ?? 'declined'}); the unit went back on sale.`,
      );
    case 'cancelled':
      return outcome('failed', 'Reservation cancelled', 'The reservation was cancelled and the unit went back on sale.');
  }
}

function renderHold(reservation: ReservationView): void {
  showOnly('hold');
  $('#hold-unit').textContent = String(reservation.unitId);
  const pending = reservation.status === 'payment_pending';
  const payButton = $<HTMLButtonElement>('#pay-button');
  payButton.disabled = pending;
  for (const input of document.querySelectorAll<HTMLInputElement>('#pay-form input')) input.disabled = pending;
  $('#pay-status').textContent = pending ? 'Payment processing…' : '';
  const remaining = $('#hold-remaining');
  stopTimer = countDown(
    Date.parse(reservation.expiresAt),
    serverOffsetMs(),
    (left) => {
      remaining.textContent = formatRemaining(left);
      remaining.classList.toggle('urgent', left < 30_000);
    },
    () => {
      if (reservation.status !== 'held') return;
      // The workflow releases the unit; its event ends the page's wait.
      payButton.disabled = true;
      $('#pay-status').textContent = 'The hold is ending…';
    },
  );
}

function outcome(kind: 'paid' | 'failed', title: string, detail: string): void {
  showOnly('outcome');
  const section = $('#outcome');
  section.classList.toggle('paid', kind === 'paid');
  section.classList.toggle('failed', kind === 'failed');
  $('#outcome-title').textContent = title;
  $('#outcome-detail').textContent = detail;
  const session = loadSession();
  if (session) forgetReservation(saleId, session.shopperId);
}

async function pay(paymentMethod: string): Promise<void> {
  const session = loadSession();
  const reservationId = session && rememberedReservation(saleId, session.shopperId);
  if (!session || !reservationId) return nextStep();
  const payButton = $<HTMLButtonElement>('#pay-button');
  payButton.disabled = true;
  say(undefined);
  $('#pay-status').textContent = 'Sending the payment…';
  try {
    render(
      await callApi<ReservationView>(`/v1/reservations/${reservationId}/payment`, {
        method: 'POST',
        token: session.token,
        body: { paymentMethod },
      }),
    );
  } catch (error) {
    if (handleAuthError(error)) return;
    if (error instanceof ApiError && error.problem.status === 409) {
      // The hold ended or the reservation moved on: show where it is now.
      return nextStep();
    }
    payButton.disabled = false;
    $('#pay-status').textContent = '';
    say(error instanceof Error ? error.message : String(error));
  }
}

/** A 401 means the token expired or was never good: sign in again. */
function handleAuthError(error: unknown): boolean {
  if (!(error instanceof ApiError) || error.problem.status !== 401) return false;
  stopStream();
  clearSession();
  say('Please sign in again.');
  void nextStep();
  return true;
}

function wire(): void {
  wireDevSignIn(() => nextStep(), say);
  $('#sign-out').addEventListener('click', () => {
    stopStream();
    stopTimer();
    clearSession();
    shown = undefined;
    void nextStep();
  });
  $('#claim-button').addEventListener('click', () => void claim());
  $('#waitlist-join').addEventListener('click', () => void joinWaitlist());
  const payForm = $<HTMLFormElement>('#pay-form');
  payForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void pay(String(new FormData(payForm).get('paymentMethod') ?? 'tok_visa'));
  });
}

async function start(): Promise<void> {
  wire();
  await refreshSale();
  if (sale) await nextStep();
}

void start();
