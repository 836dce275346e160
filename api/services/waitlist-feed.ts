import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { findFollowedWaitlistEntries } from '../../db/queries/followed-waitlist-entries';
import type { WaitlistEntryRow } from '../../db/queries/waitlist';
import { coalesced } from '../event-stream';
import { CHANGE_CHANNELS, type ChangeFeed } from './change-feed';

/*
 * The waitlist entries the open streams of this API process follow, read once per sale per
 * move: an entry leaving `waiting` notifies `waitlist_moved` (migrations/0011) with the sale id;
 * this feed then reads every followed entry of that sale in one statement
 * (db/queries/followed-waitlist-entries.ts) and hands each stream its own. 2,000 streams on a
 * sale cost one read per release, not 2,000 counting queries. A reconnect of the LISTEN
 * connection, and new followers, cause one such read per sale too (reads of a sale never overlap;
 * asks while one runs make one more after it).
 */
export type WaitlistEntryListener = (entry: WaitlistEntryRow) => void;

export interface WaitlistFeed {
  /** Calls `listener` with the shopper's entry after each move of the sale's waitlist (and once soon after following). */
  follow(saleId: string, shopperId: string, listener: WaitlistEntryListener): () => void;
  /** Ends the streams' stream when the change feed stops (server shutdown). */
  readonly changeFeed: ChangeFeed;
}

interface FollowedSale {
  followers: Map<string, Set<WaitlistEntryListener>>;
  reread: () => void;
  unsubscribe: () => void;
}

/** Followed shoppers per statement: `= any($2)` over this many stays one quick index scan. */
const MAX_SHOPPERS_PER_READ = 1_000;

export function createWaitlistFeed(options: {
  pool: Pool;
  changeFeed: ChangeFeed;
  logger: Logger;
  onRead?: () => void;
}): WaitlistFeed {
  const sales = new Map<string, FollowedSale>();

  const readSale = async (saleId: string, sale: FollowedSale) => {
    const shoppers = [...sale.followers.keys()];
    for (let i = 0; i < shoppers.length; i += MAX_SHOPPERS_PER_READ) {
      options.onRead?.();
      const rows = await findFollowedWaitlistEntries(options.pool, saleId, shoppers.slice(i, i + MAX_SHOPPERS_PER_READ));
      for (const row of rows) for (const listener of [...(sale.followers.get(row.user_id) ?? [])]) listener(row);
    }
  };

  return {
    changeFeed: options.changeFeed,
    follow(saleId, shopperId, listener) {
      let sale = sales.get(saleId);
      if (!sale) {
        const created: FollowedSale = {
          followers: new Map(),
          reread: () => undefined,
          unsubscribe: () => undefined,
        };
        created.reread = coalesced(
          () => readSale(saleId, created),
          (error) => options.logger.warn({ err: error, saleId }, 'waitlist feed could not read the sale’s entries'),
        );
        created.unsubscribe = options.changeFeed.subscribe(CHANGE_CHANNELS.waitlist, saleId, () => created.reread());
        sales.set(saleId, (sale = created));
      }
      const own = sale;
      let listeners = own.followers.get(shopperId);
      if (!listeners) own.followers.set(shopperId, (listeners = new Set()));
      listeners.add(listener);
      // Catches a move that committed between the stream's first read and now.
      own.reread();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) own.followers.delete(shopperId);
        if (own.followers.size === 0 && sales.get(saleId) === own) {
          own.unsubscribe();
          sales.delete(saleId);
        }
      };
    },
  };
}
