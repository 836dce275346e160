import { CancellationScope, condition, setHandler } from '@temporalio/workflow';
import { ErrorCode } from '../domain/errors';
import { PLAIN_TEXT } from '../domain/plain-text';
import { isFinal } from '../domain/reservation';
import {
  cancelReservationUpdate,
  chargeEventSignal,
  extendHoldUpdate,
  HOLD_EXTENSION_MAX_SECONDS,
  HOLD_EXTENSION_REASON_MAX_LENGTH,
  HOLD_EXTENSION_TOTAL_SECONDS,
  reservationStateQuery,
  submitPaymentUpdate,
} from '../domain/reservation-workflow-contract';
import { bookkeeping } from './activity-stubs';
import { refuse, type ReservationState } from './reservation-state';

/*
 * The reservation's messages (domain/reservation-workflow-contract.ts) and their handlers. The
 * updates' database steps are local activities (activities/reservation-messages.ts), one at a
 * time with the main body's, and each finishes even if the workflow is cancelled meanwhile.
 */
export function handleReservationMessages(state: ReservationState): void {
  const { reservationId } = state;
  const refuseUnlessHeld = () => {
    if (!state.holdOpen()) throw refuse(ErrorCode.InvalidState, `reservation is ${state.status}`);
  };
  const refuseUnlessInTime = () => {
    refuseUnlessHeld();
    if (Date.now() >= state.deadlineMs) throw refuse(ErrorCode.HoldExpired, 'the hold has expired');
  };

  setHandler(reservationStateQuery, () => ({ status: state.status, expiresAtMs: state.deadlineMs }));

  setHandler(chargeEventSignal, (event) => {
    if (!state.chargeEvents.some((seen) => seen.eventId === event.eventId)) state.chargeEvents.push(event);
  });

  setHandler(
    cancelReservationUpdate,
    async () => {
      state.cancelRequested = true;
      // A workflow cancellation landing meanwhile must not fail this update: the release still comes.
      await CancellationScope.nonCancellable(() => condition(() => isFinal(state.status)));
      return state.status;
    },
    { validator: refuseUnlessHeld },
  );

  setHandler(
    submitPaymentUpdate,
    async ({ paymentMethod }) => {
      // The main body reads paymentMethod and sets holdDecided in one synchronous step, so the
      // payment is either taken before that decision or refused after it, never half-way.
      if (state.holdDecided) throw refuse(ErrorCode.InvalidState, `reservation is ${state.status}`);
      state.paymentMethod = paymentMethod;
      state.markedPending = await CancellationScope.nonCancellable(() =>
        state.oneAtATime(() => bookkeeping.markPaymentPending({ reservationId, paymentMethod })),
      );
      if (!state.markedPending) throw refuse(ErrorCode.InvalidState, 'the reservation is no longer held');
      state.setStatus('payment_pending');
      return state.status;
    },
    { validator: (_request: { paymentMethod: string }) => refuseUnlessInTime() },
  );

  setHandler(
    extendHoldUpdate,
    async ({ seconds, by, reason }) => {
      // The deadline moves first, then one idempotent DB step. The checks are made again once
      // this handler's turn for the database has come. A release that wins the race (a cancel)
      // leaves the extension unrecorded and the answer is a refusal.
      const extended = await CancellationScope.nonCancellable(() =>
        state.oneAtATime(async () => {
          refuseUnlessHeld();
          if (state.extendedSeconds + seconds > HOLD_EXTENSION_TOTAL_SECONDS)
            throw refuse(ErrorCode.InvalidRequest, `a hold may be extended by ${HOLD_EXTENSION_TOTAL_SECONDS} s in all`);
          const seq = ++state.extensions;
          state.extendedSeconds += seconds;
          state.deadlineMs += seconds * 1000;
          const expiresAtMs = state.deadlineMs;
          const applied = await bookkeeping.extendHoldDeadline({ reservationId, seq, seconds, by, reason, expiresAtMs });
          return applied ? expiresAtMs : undefined;
        }),
      );
      if (extended === undefined) throw refuse(ErrorCode.InvalidState, 'the reservation is no longer held');
      return { expiresAtMs: extended };
    },
    {
      validator: ({ seconds, by, reason }) => {
        refuseUnlessInTime();
        if (!Number.isInteger(seconds) || seconds < 1 || seconds > HOLD_EXTENSION_MAX_SECONDS)
          throw refuse(ErrorCode.InvalidRequest, `seconds must be a whole number from 1 to ${HOLD_EXTENSION_MAX_SECONDS}`);
        if (state.extendedSeconds + seconds > HOLD_EXTENSION_TOTAL_SECONDS)
          throw refuse(
            ErrorCode.InvalidRequest,
            `a hold may be extended by ${HOLD_EXTENSION_TOTAL_SECONDS} s in all; ${HOLD_EXTENSION_TOTAL_SECONDS - state.extendedSeconds} s are left`,
          );
        if (typeof by !== 'string' || by.trim() === '')
          throw refuse(ErrorCode.InvalidRequest, 'by must name who extends the hold');
        // The extension is written to Postgres, whose text cannot hold NUL: refused here, because
        // support can send this update from the Web UI, past the API's schema.
        if (reason !== undefined && !isExtensionReason(reason))
          throw refuse(ErrorCode.InvalidRequest, 'reason must be text without control characters');
      },
    },
  );
}

function isExtensionReason(reason: unknown): boolean {
  return (
    typeof reason === 'string' &&
    reason.length >= 1 &&
    reason.length <= HOLD_EXTENSION_REASON_MAX_LENGTH &&
    PLAIN_TEXT.test(reason)
  );
}
