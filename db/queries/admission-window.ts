/*
 * When a queue ticket's admission ends and whether it is live, as SQL over a ticket `t` and its
 * waiting room `w` (docs/DESIGN.md, "Waiting room"; migrations/0019). One definition for every
 * statement that decides it: the admission step's count of running admissions, the claim, the
 * shopper's view, the first sighting and the invariant checker.
 *
 * An admission ends at `admitted_until`: the confirm window at first, the whole admission once
 * the shopper has been told, the moment they left if they gave it back. A ticket admitted by a
 * worker from before migration 0019 has none recorded: its admission runs the whole
 * `admission_seconds`, as it did then.
 */
export const ADMISSION_END_SQL = `coalesce(t.admitted_until, t.admitted_at + make_interval(secs => w.admission_seconds))`;

/** The full end an admission is extended to once its shopper has been told. */
export const ADMISSION_FULL_END_SQL = `(t.admitted_at + make_interval(secs => w.admission_seconds))`;

/** Admitted, not left, and not over by the database clock. */
export const ADMISSION_LIVE_SQL = `(t.admitted_at is not null and t.left_at is null and ${ADMISSION_END_SQL} > now())`;
