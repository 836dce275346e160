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
  /** Leading zero bits the proof-of-work solution needs (before any automatic raise). */
  powDifficulty: number;
}

export const DEFAULT_ADMISSION_SECONDS = 120;
export const DEFAULT_POW_DIFFICULTY = 12;
export const MAX_POW_DIFFICULTY = 28;

export type QueueStatus = 'waiting' | 'admitted' | 'expired';

/** `GET /v1/sales/:saleId/queue/me`. Position and `ahead` are null until the ticket is ordered (the shuffle at the start). */
export interface QueuePositionView {
  status: QueueStatus;
  ticketId: string;
  position: number | null;
  ahead: number | null;
  estimatedWaitSeconds: number | null;
  admittedUntil?: string;
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
