import type { Pool } from 'pg';
import { insertTicket, insertTickets, type NewTicket, type QueueTicketRow } from '../../db/queries/queue-tickets';

/** Statements in flight at once; joins arriving meanwhile wait for the next one. */
const MAX_IN_FLIGHT = 2;
/** Tickets per statement at most. */
const MAX_BATCH = 500;

interface Pending {
  ticket: NewTicket;
  resolve: (row: QueueTicketRow | null) => void;
  reject: (error: unknown) => void;
}

/*
 * Queue joins arrive as a crowd, and one insert per join costs a round trip and a commit each.
 * This sends the joins that arrived while the previous statements were in flight as one
 * multi-row insert (db/queries/queue-tickets.ts, `insertTickets`); a lone join goes at once. Each
 * caller is answered only after the statement carrying its ticket has committed, with its row, or
 * null when a unique index refused it (as `insertTicket`). Should a statement fail, its tickets
 * are tried one by one, so one bad ticket cannot fail the others.
 */
export function createTicketInserts(pool: Pool) {
  const waiting: Pending[] = [];
  let inFlight = 0;

  async function send(batch: Pending[]): Promise<void> {
    try {
      const rows = await insertTickets(
        pool,
        batch.map((p) => p.ticket),
      );
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const p of batch) p.resolve(byId.get(p.ticket.id) ?? null);
    } catch (error) {
      if (batch.length === 1) batch[0]!.reject(error);
      else await Promise.all(batch.map((p) => insertTicket(pool, p.ticket).then(p.resolve, (alone: unknown) => p.reject(alone))));
    }
  }

  function flush(): void {
    while (inFlight < MAX_IN_FLIGHT && waiting.length > 0) {
      inFlight++;
      void send(waiting.splice(0, MAX_BATCH)).finally(() => {
        inFlight--;
        flush();
      });
    }
  }

  return {
    /** Inserts the ticket (alone or with others); null when the shopper or the challenge has one already. */
    insert(ticket: NewTicket): Promise<QueueTicketRow | null> {
      return new Promise((resolve, reject) => {
        waiting.push({ ticket, resolve, reject });
        flush();
      });
    },
  };
}

export type TicketInserts = ReturnType<typeof createTicketInserts>;
