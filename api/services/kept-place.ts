import type { QueuePlaceRow } from '../../db/queries/queue-tickets';

/**
 * What the waiting room keeps of a place it has read (api/services/waiting-room.ts): only the
 * fields its answers from memory use. A whole row costs about 770 bytes with its key and map
 * entry, this about 280 (docs/PERFORMANCE.md, "What stands in the way"), for up to 200,000 places.
 */
export type KeptPlace = Pick<
  QueuePlaceRow,
  | 'id'
  | 'position'
  | 'serving'
  | 'admit_per_second'
  | 'admission_live'
  | 'admission_unseen'
  | 'admitted_at'
  | 'admitted_until'
  | 'left_at'
>;

export function keptPlace(place: KeptPlace): KeptPlace {
  return {
    id: place.id,
    position: place.position,
    serving: place.serving,
    admit_per_second: place.admit_per_second,
    admission_live: place.admission_live,
    admitted_at: place.admitted_at,
    admitted_until: place.admitted_until,
    admission_unseen: place.admission_unseen,
    left_at: place.left_at,
  };
}
