import type { Request, Response } from 'express';
import type { WaitlistEntryRow } from '../../db/queries/waitlist';
import type { WaitlistEntryView } from '../../domain/reservation';
import { startEventStream } from '../event-stream';
import type { WaitlistFeed } from '../services/waitlist-feed';

/*
 * The stream of GET /v1/sales/:saleId/waitlist/me/events (its route: api/routes/waitlist.ts):
 * `entry` events, the view of GET …/waitlist/me, first as read, then whenever the sale's
 * waitlist moves, from the read the sale's streams share (api/services/waitlist-feed.ts). An
 * unchanged view sends nothing; the stream ends once the entry is no longer waiting.
 */
export function followWaitlistEntry(
  req: Request,
  res: Response,
  follow: {
    waitlistFeed: WaitlistFeed;
    saleId: string;
    shopperId: string;
    first: WaitlistEntryRow;
    toView: (entry: WaitlistEntryRow) => WaitlistEntryView;
  },
): void {
  const stream = startEventStream(req, res, follow.waitlistFeed.changeFeed);
  const send = (entry: WaitlistEntryRow) => {
    if (stream.closed) return;
    const view = follow.toView(entry);
    stream.send('entry', view);
    if (view.status !== 'waiting') stream.close();
  };
  send(follow.first);
  if (!stream.closed) stream.onClose(follow.waitlistFeed.follow(follow.saleId, follow.shopperId, send));
}
