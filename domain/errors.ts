/**
 * Error codes shared by the API (problem+json `type` suffix) and the workflows
 * (ApplicationFailure `type`), so a failure keeps its name from workflow to HTTP answer.
 */
export const ErrorCode = {
  InvalidRequest: 'invalid-request',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  NotFound: 'not-found',
  MethodNotAllowed: 'method-not-allowed',
  SoldOut: 'sold-out',
  AlreadyReserved: 'already-reserved',
  SaleNotStarted: 'sale-not-started',
  NoWaitlist: 'no-waitlist',
  UnitsAvailable: 'units-available',
  RateLimited: 'rate-limited',
  NotAdmitted: 'not-admitted',
  AdmissionSpent: 'admission-spent',
  InvalidChallenge: 'invalid-challenge',
  HoldExpired: 'hold-expired',
  InvalidState: 'invalid-state',
  /** Temporal refused to start the reservation's workflow for good; its unit was (or is being) given back. */
  StartRefused: 'start-refused',
  /** An erasure refused: a reservation of the shopper holds a unit, waits for a payment or still has a running workflow. */
  ShopperHasLiveReservation: 'shopper-has-live-reservation',
  BadSignature: 'bad-signature',
  PayloadTooLarge: 'payload-too-large',
  UnsupportedMediaType: 'unsupported-media-type',
  ServiceUnavailable: 'service-unavailable',
  Internal: 'internal',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];
