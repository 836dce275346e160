/**
 * The waiting room of a sale (issue 9): its settings, the shopper's view of their place, and the
 * proof-of-work rule. Pure TypeScript, shared by the API, the activities, the admission workflow
 * and the shopper client (clients/waiting-room-client.ts), so it runs in a browser too.
 */

export interface WaitingRoomSettings {
  /** New admissions per second while units can still be claimed. */
  admitPerSecond: number;
  /** How long an admission lets its shopper claim. */
  admissionSeconds: number;
  /**
   * How long an admission runs until its shopper is first told "admitted" (queue/me or its
   * stream), which extends it to `admissionSeconds`: an admission nobody looks at comes back to
   * the room after this (issue 21). At most `admissionSeconds`.
   */
  confirmSeconds: number;
  /** Leading zero bits the proof-of-work solution needs (before any automatic raise). */
  powDifficulty: number;
}

export const DEFAULT_ADMISSION_SECONDS = 120;
export const DEFAULT_CONFIRM_SECONDS = 15;
export const DEFAULT_POW_DIFFICULTY = 12;
export const MAX_POW_DIFFICULTY = 28;

/**
 * `sold-out`: every unit is sold (or withdrawn) and none is held, so no admission can come any more.
 * `left`: the shopper left the room (`DELETE …/queue/me`); an admission they had not spent ended then.
 */
export type QueueStatus = 'waiting' | 'admitted' | 'expired' | 'left' | 'sold-out';

/** `GET /v1/sales/:saleId/queue/me`. Position and `ahead` are null until the ticket is ordered (the shuffle at the start). */
export interface QueuePositionView {
  status: QueueStatus;
  ticketId: string;
  position: number | null;
  ahead: number | null;
  estimatedWaitSeconds: number | null;
  admittedUntil?: string;
  /** While waiting: when to ask again, by position (`nextPollSeconds` below); also sent as `Retry-After`. */
  nextPollSeconds?: number;
}

/** The longest a waiting shopper is told to wait before polling again. */
export const MAX_POLL_SECONDS = 30;
/** Seconds over which the pre-queue's first polls after the start are spread (by ticket id). */
const START_SPREAD_SECONDS = 5;

/*
 * How long a waiting shopper should wait before polling queue/me again (`nextPollSeconds`, also
 * `Retry-After`): half the estimated wait, between 1 and MAX_POLL_SECONDS. For a crowd of N at R
 * admissions/s that is about 2R × (1 + ln(MAX_POLL_SECONDS / 2)) + N ÷ MAX_POLL_SECONDS polls
 * a second, whatever N is near the front: at R = 200 and N = 100,000 about 4,400/s instead of the
 * 50,000/s of a fixed 2 s. Before the start (no position yet) until the start, spread over
 * START_SPREAD_SECONDS by the ticket id so the pre-queue does not come back all in one instant;
 * after it, while not ordered yet (within a second), 1 s.
 */
export function nextPollSeconds(estimatedWaitSeconds: number | null, secondsToStart: number, ticketId: string): number {
  if (estimatedWaitSeconds !== null) return Math.min(MAX_POLL_SECONDS, Math.max(1, Math.ceil(estimatedWaitSeconds / 2)));
  if (secondsToStart <= 0) return 1;
  const spread = (parseInt(ticketId.slice(0, 2), 16) || 0) % START_SPREAD_SECONDS;
  return Math.min(MAX_POLL_SECONDS, Math.ceil(secondsToStart)) + spread;
}

/** True when `digest` starts with at least `bits` zero bits. */
export function hasLeadingZeroBits(digest: Uint8Array, bits: number): boolean {
  let remaining = bits;
  for (const byte of digest) {
    if (remaining <= 0) return true;
    if (remaining >= 8) {
      if (byte !== 0) return false;
      remaining -= 8;
    } else {
      return byte >> (8 - remaining) === 0;
    }
  }
  return remaining <= 0;
}

/** The string whose SHA-256 a solution must make start with `difficulty` zero bits. */
export function powInput(challenge: string, nonce: string): string {
  return `${challenge}:${nonce}`;
}

export function admissionWorkflowId(saleId: string): string {
  return `admission-${saleId}`;
}

export interface AdmissionWorkflowInput {
  saleId: string;
  startsAtMs: number;
  admitPerSecond: number;
  admissionSeconds: number;
  /** Carried over continueAsNew. */
  carry?: { shuffled: boolean; lastTickMs: number; credit: number; runs: number };
}

export interface AdmissionTickResult {
  /** Admitted by this step. */
  admitted: number;
  serving: number;
  assigned: number;
  /** Units available, and admissions still running without a live reservation. */
  available: number;
  pendingAdmissions: number;
  /** True once every unit is sold: nothing can come back, the workflow ends. */
  finished: boolean;
}
