import pino from 'pino';
import { createSoldOutRegistry, type SoldOutRegistry } from '../../api/services/sold-out-registry';
import { testInfra } from '../helpers/infra-env';
import { waitFor } from '../helpers/sales';
import { Client } from 'pg';

/* The registry against the run's real Postgres: marks, tickets, lapses and the probe. */
let registry: SoldOutRegistry;
let notifier: Client;
const sale = '00000000-0000-4000-8000-000000000001';

beforeAll(async () => {
  registry = createSoldOutRegistry({ databaseUrl: testInfra().databaseUrl, logger: pino({ level: 'silent' }), ttlMs: 300 });
  notifier = new Client({ connectionString: testInfra().databaseUrl });
  await notifier.connect();
  await waitFor(
    async () => registry.ticket(sale),
    (ticket) => ticket >= 0,
    10_000,
    'listener connected',
  );
});

afterAll(async () => {
  await registry?.stop();
  await notifier?.end();
});

const release = () => notifier.query(`select pg_notify('unit_released', $1)`, [sale]);

test('a mark holds until a release is notified', async () => {
  registry.markSoldOut(sale, registry.ticket(sale));
  expect(registry.admit(sale)).toBe('sold-out');
  await release();
  await waitFor(
    async () => registry.isSoldOut(sale),
    (soldOut) => !soldOut,
    5_000,
    'mark cleared',
  );
  expect(registry.admit(sale)).toBe('claim');
});

test('a claim whose ticket predates a release cannot mark the sale', async () => {
  const ticket = registry.ticket(sale);
  await release();
  await waitFor(
    async () => registry.ticket(sale),
    (now) => now !== ticket,
    5_000,
    'release seen',
  );
  registry.markSoldOut(sale, ticket);
  expect(registry.isSoldOut(sale)).toBe(false);
});

test('after a lapse one claim probes Postgres while the others keep the memory answer; the fast path never takes the probe', async () => {
  registry.markSoldOut(sale, registry.ticket(sale));
  await new Promise((resolve) => setTimeout(resolve, 350)); // the 300 ms mark lapses
  expect(registry.admit(sale, false)).toBe('claim'); // the fast path reads, and passes the request on
  expect(registry.admit(sale)).toBe('claim'); // the route grants the probe
  expect(registry.admit(sale)).toBe('sold-out');
  expect(registry.admit(sale, false)).toBe('sold-out');
  registry.markSoldOut(sale, registry.ticket(sale)); // the probe found nothing: marked again
  expect(registry.isSoldOut(sale)).toBe(true);
});

test('a claim that gets a unit clears a lapsed mark, not a fresh one', async () => {
  registry.markSoldOut(sale, registry.ticket(sale));
  registry.unitClaimed(sale); // fresh: a claim that found nothing since decides until the lapse
  expect(registry.admit(sale)).toBe('sold-out');
  await waitFor(
    async () => registry.isSoldOut(sale),
    (soldOut) => !soldOut,
    5_000,
    'mark lapsed',
  );
  expect(registry.admit(sale)).toBe('claim'); // the probe
  expect(registry.admit(sale)).toBe('sold-out');
  registry.unitClaimed(sale); // the probe got a unit (one came back unannounced)
  expect(registry.admit(sale)).toBe('claim');
  expect(registry.admit(sale)).toBe('claim');
});
