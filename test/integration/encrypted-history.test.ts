/*
 * What Temporal stores of a real reservation (claimed and paid through the API, run by the real
 * worker): read raw with a client that has no codec, no payload holds the shopper's id or e-mail
 * address, only `binary/encrypted` bytes; with the codec the same history reads. Search
 * attributes are the exception a codec cannot cover (Temporal indexes them in plain): the
 * `ShopperId` attribute is asserted to be the only place the id is. The SDK core's marker
 * bookkeeping (patch ids; a local activity's type, sequence number and times) is plain too.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { reservationWorkflowId } from '../../domain/reservation-workflow-contract';
import { shopperAddress } from '../../notifications/notifier';
import { shopperToken, type ApiClient } from '../helpers/api-client';
import type { AppUnderTest } from '../helpers/app-under-test';
import { testInfra } from '../helpers/infra-env';
import { startIntegrationApp, stopIntegrationApp } from '../helpers/integration-app';
import { createTestSale, waitFor } from '../helpers/sales';
import { testDataConverter, testTemporalClient } from '../helpers/temporal-client';
import { recordHistory } from '../helpers/workflow-env';

let app: AppUnderTest;
let api: ApiClient;
let connection: Connection;

beforeAll(async () => {
  ({ app, api } = await startIntegrationApp({ mail: true }, 8));
  connection = await Connection.connect({ address: testInfra().temporalAddress });
});

afterAll(async () => {
  await connection?.close();
  await stopIntegrationApp({ app, api });
});

type Found = { path: string; text: string };

/** Every string and byte string (as UTF-8) in `value` with its path, payloads' data included. */
function texts(value: unknown, path = ''): Found[] {
  if (value === null || value === undefined) return [];
  if (typeof value === 'string') return [{ path, text: value }];
  if (value instanceof Uint8Array) return [{ path, text: Buffer.from(value).toString('utf8') }];
  if (Array.isArray(value)) return value.flatMap((item, i) => texts(item, `${path}[${i}]`));
  if (typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => texts(item, `${path}.${key}`));
  return [];
}

/** Every Payload (an object with `data` and a `metadata.encoding`) in `value` but its search attributes. */
function payloads(value: unknown): Payload[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  if (Array.isArray(value)) return value.flatMap(payloads);
  const record = Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'searchAttributes'));
  if (record.data instanceof Uint8Array && (record.metadata as Record<string, unknown> | undefined)?.encoding)
    return [record as Payload];
  return Object.values(record).flatMap(payloads);
}

async function paidReservation(shopper: string): Promise<WorkflowHandle> {
  const sale = await createTestSale(api, { units: 2 });
  const token = await shopperToken(shopper);
  const held = await api.post<{ id: string }>(`/v1/sales/${sale.id}/reservations`, { token });
  expect(held.status).toBe(201);
  await api.post(`/v1/reservations/${held.body.id}/payment`, { token, body: { paymentMethod: 'tok_visa' } });
  await waitFor(
    () => api.get<{ status: string }>(`/v1/reservations/${held.body.id}`, token),
    (answer) => answer.body.status === 'paid',
    30_000,
    'the reservation paid',
  );
  const handle = testTemporalClient(connection).workflow.getHandle(reservationWorkflowId(held.body.id));
  await handle.result();
  return handle;
}

test('a paid reservation read raw from Temporal holds no shopper id or e-mail address outside its search attributes', async () => {
  const shopper = `erin.${Date.now().toString(36)}@example.com`;
  const email = shopperAddress(shopper, 'shoppers.invalid');
  const handle = await paidReservation(shopper);

  const raw = new Client({ connection }); // no codec: what anyone reading Temporal's store sees
  const history = await raw.workflow.getHandle(handle.workflowId).fetchHistory();
  const events = history.events ?? [];
  const found = texts(events);
  const outsideSearchAttributes = found.filter((entry) => !entry.path.includes('.searchAttributes.'));
  const mentions = (needle: string, entries: Found[]) =>
    entries.filter((entry) => entry.text.includes(needle)).map((e) => e.path);
  expect(mentions(shopper, outsideSearchAttributes)).toEqual([]);
  expect(mentions(email, outsideSearchAttributes)).toEqual([]);
  expect(mentions(shopper, found).every((path) => /\.searchAttributes\.indexedFields\.ShopperId\.data$/.test(path))).toBe(true);

  // Every payload but the search attributes' (Temporal indexes those in plain) and the SDK core's
  // own marker bookkeeping (a patch id; a local activity's type, sequence number and times, written
  // past the codec) is encrypted; a local activity's result in its marker is encrypted too.
  const encodingOf = (payload: Payload) => Buffer.from(payload.metadata!.encoding!).toString('utf8');
  const all = payloads(events);
  const encodings = new Set(all.map(encodingOf));
  expect(all.length).toBeGreaterThan(5);
  expect(encodings).toContain('binary/encrypted');
  const markers = events.flatMap((event) => (event.markerRecordedEventAttributes ? [event.markerRecordedEventAttributes] : []));
  const notMarkers = events.map((event) => ({ ...event, markerRecordedEventAttributes: undefined }));
  expect(payloads(notMarkers).filter((payload) => encodingOf(payload) !== 'binary/encrypted')).toEqual([]);
  const markerResults = payloads(markers.map((marker) => marker.details?.result));
  expect(markerResults.filter((payload) => encodingOf(payload) !== 'binary/encrypted')).toEqual([]);
  const markerPlain = payloads(markers)
    .filter((payload) => encodingOf(payload) !== 'binary/encrypted')
    .map((payload) => Buffer.from(payload.data!).toString('utf8'));

  // The same history through the codec: the start input names the shopper, the summary reads.
  const started = events[0]!.workflowExecutionStartedEventAttributes!;
  const input = started.input!.payloads![0]!;
  const [decoded] = await testDataConverter().payloadCodecs![0]!.decode([input as Payload]);
  expect(defaultPayloadConverter.fromPayload(decoded!)).toMatchObject({ shopperId: shopper });
  const description = await handle.describe();
  expect(await description.staticSummary()).toContain(shopper);

  const data = Buffer.from(input.data!);
  console.log(
    [
      `raw start input of ${handle.workflowId} (no codec):`,
      `  metadata ${JSON.stringify(Object.fromEntries(Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('utf8')])))}`,
      `  data (${data.length} bytes, base64) ${data.toString('base64').slice(0, 64)}…`,
      `through the codec: ${JSON.stringify(defaultPayloadConverter.fromPayload(decoded!)).slice(0, 160)}…`,
      `payloads in the history: ${all.length}, encodings: ${[...encodings].join(', ')}`,
      `local activity results in markers: ${markerResults.length}, all encrypted; plain marker bookkeeping (${markerPlain.length}), e.g. ${markerPlain[0] ?? 'none'}`,
    ].join('\n'),
  );
  await recordHistory(testInfra().temporalAddress, handle, 'paid-encrypted');
});
