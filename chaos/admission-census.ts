import type { Pool } from 'pg';

export interface AdmissionCensus {
  tickets: number;
  admitted: number;
  /** Reservations by origin (`claim`, `waitlist`) and by their shopper's admission when each was made. */
  reservations: Record<string, { total: number; inAdmission: number; admissionOver: number; notAdmitted: number }>;
}

export interface WaitlistCensus {
  /** Reservations a release made for the head of the waitlist, by final status. */
  offersByStatus: Record<string, number>;
  offers: number;
}

/**
 * Who got the sale's reservations: a shopper inside a running admission when the reservation was
 * made (the only way the waiting room means to allow), one admitted earlier whose admission had
 * run out (e.g. an offer while on the waitlist), or one never admitted at all.
 */
export async function admissionCensus(pool: Pool, saleId: string): Promise<AdmissionCensus | undefined> {
  const { rows: rooms } = await pool.query<{ tickets: number; admitted: number }>(
    `select count(t.id)::int as tickets, count(t.admitted_at)::int as admitted
     from waiting_rooms w left join queue_tickets t on t.sale_id = w.sale_id
     where w.sale_id = $1::uuid group by w.sale_id`,
    [saleId],
  );
  if (!rooms[0]) return undefined;
  const { rows } = await pool.query<{
    origin: string;
    total: number;
    in_admission: number;
    admission_over: number;
    not_admitted: number;
  }>(
    `select r.origin, count(*)::int as total,
            count(*) filter (where t.admitted_at <= r.created_at
                               and r.created_at <= t.admitted_at + make_interval(secs => w.admission_seconds))::int as in_admission,
            count(*) filter (where t.admitted_at + make_interval(secs => w.admission_seconds) < r.created_at)::int as admission_over,
            count(*) filter (where t.admitted_at is null or t.admitted_at > r.created_at)::int as not_admitted
     from reservations r
     join waiting_rooms w on w.sale_id = r.sale_id
     left join queue_tickets t on t.sale_id = r.sale_id and t.shopper_id = r.user_id
     where r.sale_id = $1::uuid
     group by r.origin order by r.origin`,
    [saleId],
  );
  return {
    ...rooms[0],
    reservations: Object.fromEntries(
      rows.map((r) => [
        r.origin,
        { total: r.total, inAdmission: r.in_admission, admissionOver: r.admission_over, notAdmitted: r.not_admitted },
      ]),
    ),
  };
}

export async function waitlistCensus(pool: Pool, saleId: string): Promise<WaitlistCensus> {
  const { rows } = await pool.query<{ status: string; n: number }>(
    `select status, count(*)::int as n from reservations
     where sale_id = $1::uuid and origin = 'waitlist' group by status order by status`,
    [saleId],
  );
  return { offersByStatus: Object.fromEntries(rows.map((r) => [r.status, r.n])), offers: rows.reduce((n, r) => n + r.n, 0) };
}
