/*
 * The shopper's token and their reservation per sale, kept in sessionStorage: gone when the tab
 * closes, shared by reloads. A real identity provider would hand the page its token instead of
 * the development sign-in (README, "The checkout page").
 */
export interface Session {
  shopperId: string;
  token: string;
}

const SESSION_KEY = 'flash-sale.session';
const reservationKey = (saleId: string, shopperId: string) => `flash-sale.reservation.${saleId}.${shopperId}`;

export function loadSession(): Session | undefined {
  try {
    const parsed = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? 'null') as Partial<Session> | null;
    return parsed && typeof parsed.token === 'string' && typeof parsed.shopperId === 'string'
      ? { shopperId: parsed.shopperId, token: parsed.token }
      : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

export function rememberedReservation(saleId: string, shopperId: string): string | undefined {
  return sessionStorage.getItem(reservationKey(saleId, shopperId)) ?? undefined;
}

export function rememberReservation(saleId: string, shopperId: string, reservationId: string): void {
  sessionStorage.setItem(reservationKey(saleId, shopperId), reservationId);
}

const ticketKey = (saleId: string, shopperId: string) => `flash-sale.queue-ticket.${saleId}.${shopperId}`;

/** The waiting-room ticket (a signed token) the claim sends as `Queue-Ticket`. */
export function rememberedTicket(saleId: string, shopperId: string): string | undefined {
  return sessionStorage.getItem(ticketKey(saleId, shopperId)) ?? undefined;
}

export function rememberTicket(saleId: string, shopperId: string, ticket: string): void {
  sessionStorage.setItem(ticketKey(saleId, shopperId), ticket);
}

export function forgetTicket(saleId: string, shopperId: string): void {
  sessionStorage.removeItem(ticketKey(saleId, shopperId));
}

export function forgetReservation(saleId: string, shopperId: string): void {
  sessionStorage.removeItem(reservationKey(saleId, shopperId));
}
