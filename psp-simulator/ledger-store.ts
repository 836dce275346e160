import type { Journal, JournalEntry } from './journal';
import type { Charge, Refund } from './types';

/** Every charge and refund this PSP ever made: the source of truth behind GET /v1/ledger. */
export interface LedgerStore {
  charge(id: string): Charge | undefined;
  refund(id: string): Refund | undefined;
  chargesByReference(reference: string): Charge[];
  allCharges(): Charge[];
  allRefunds(): Refund[];
  saveCharge(charge: Charge): void;
  saveRefund(refund: Refund): void;
}

export function createLedgerStore(journal: Journal, entries: readonly JournalEntry[] = []): LedgerStore {
  const charges = new Map<string, Charge>();
  const refunds = new Map<string, Refund>();
  for (const entry of entries) {
    if (entry.kind === 'charge') charges.set(entry.charge.id, entry.charge);
    else if (entry.kind === 'refund') refunds.set(entry.refund.id, entry.refund);
  }
  // Copies in and out: a stored answer body must never change because the charge did later.
  return {
    charge: (id) => copy(charges.get(id)),
    refund: (id) => copy(refunds.get(id)),
    chargesByReference: (reference) => [...charges.values()].filter((c) => c.reference === reference).map((c) => ({ ...c })),
    allCharges: () => [...charges.values()].map((c) => ({ ...c })),
    allRefunds: () => [...refunds.values()].map((r) => ({ ...r })),
    saveCharge: (charge) => {
      charges.set(charge.id, { ...charge });
      journal.append({ kind: 'charge', charge });
    },
    saveRefund: (refund) => {
      refunds.set(refund.id, { ...refund });
      journal.append({ kind: 'refund', refund });
    },
  };
}

function copy<T extends object>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : { ...value };
}
