import type { Queryable } from '../pool';

export interface WebhookEventRecord {
  id: string;
  type: string;
  chargeId: string;
  reference: string;
}

/** Records a delivery; false when this event was already processed (a duplicate delivery). */
export async function beginWebhookEvent(db: Queryable, event: WebhookEventRecord): Promise<boolean> {
  const { rows } = await db.query<{ processed: boolean }>(
    `with inserted as (
       insert into webhook_events (id, type, charge_id, reference) values ($1::text, $2::text, $3::text, $4::text)
       on conflict (id) do nothing
       returning false as processed
     )
     select processed from inserted
     union all
     select processed_at is not null from webhook_events where id = $1::text and not exists (select 1 from inserted)`,
    [event.id, event.type, event.chargeId, event.reference],
  );
  return rows[0]?.processed === false;
}

export async function finishWebhookEvent(db: Queryable, eventId: string): Promise<void> {
  await db.query(`update webhook_events set processed_at = now() where id = $1::text and processed_at is null`, [eventId]);
}
