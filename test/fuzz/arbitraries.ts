import fc from 'fast-check';
import { createSaleBody } from '../../api/schemas';
import { PAYMENT_METHOD_PATTERN } from '../../domain/payment';
import { signWebhook, verifyWebhookSignature } from '../../payments/webhook-signature';
import type { FuzzRequest } from './fuzz-http';

/** A reservation made during set-up, with its owner's token. */
export interface OwnedReservation {
  id: string;
  saleId: string;
  token: string;
}

/** What the set-up made: every request built from it should change nothing. */
export interface FuzzWorld {
  /** Live sales without an available unit. */
  soldOutSaleIds: string[];
  scheduledSaleId: string;
  /** Held; their owners may not pay or cancel them during the run. */
  held: OwnedReservation[];
  /** Held, claimed with `idempotencyKey`: the owner's replay with that key is a 201 that changes nothing. */
  keyed: OwnedReservation & { idempotencyKey: string };
  /** Paid and cancelled: paying or cancelling them again is a 409. */
  settled: OwnedReservation[];
  adminToken: string;
  webhookSecret: string;
  /** Authorization header values that must never authenticate anybody (see auth-tokens.test.ts). */
  forgedAuthorizations: string[];
  /** Valid tokens of shoppers who own nothing, with arbitrary subjects. */
  strangerTokens: string[];
}

const BODY_ERRORS = [400, 413, 415] as const;
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code));
const latin1 = fc
  .integer({ min: 0x20, max: 0xff })
  .filter((code) => code !== 0x7f)
  .map((code) => String.fromCharCode(code));
const headerValue = fc.oneof(fc.string({ unit: printable, maxLength: 300 }), fc.string({ unit: latin1, maxLength: 40 }));

/** Percent-encodes every byte outside the unreserved set, so any string (lone surrogates included) is a path segment. */
function percentEncode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Path segments naming nothing: random UUIDs, non-UUIDs, unicode, bad percent-encoding, very long ones. */
const strangeId: fc.Arbitrary<string> = fc
  .oneof(
    { weight: 3, arbitrary: fc.uuid() },
    fc.uuid().map((id) => `${id}%00`),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }).map(percentEncode),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map(percentEncode),
    fc.constantFrom('%', '%zz', '%E0%A4%A', '%C0%AF', '%00', '%2F', '%5C', 'null', '0', '-1', '1e999', '__proto__'),
    fc.constantFrom("'%20or%201=1--", '%27%3B%20drop%20table%20sales%3B--', '%24%7B7*7%7D', '%3Cscript%3E'),
    fc.integer({ min: 100, max: 8_000 }).map((n) => 'a'.repeat(n)),
    // The client resolves dot segments (`/v1/reservations/../payment` is `/v1/payment`): those are left to `anywhere`.
  )
  .filter((id) => !/^(\.|%2e){1,2}$/i.test(id));

function idFrom(known: string[]): fc.Arbitrary<{ id: string; known: boolean }> {
  return fc.oneof(
    fc.constantFrom(...known).map((id) => ({ id, known: true })),
    fc.constantFrom(...known).map((id) => ({ id: id.toUpperCase(), known: true })),
    strangeId.map((id) => ({ id, known: false })),
  );
}

const jsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.json({ maxDepth: 3 }) },
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constantFrom('{', '{"a":', 'nul', "{'a':1}", '[1,]', '{"a":1}{"b":2}', '\uFEFF{}', '{"a":"\\ud800"}', '{"a":"\\u0000"}'),
  fc.constantFrom('{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"polluted":true}}}', 'null', '[]', '""', '1e999'),
  fc.constantFrom(5_000, 20_000).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.constantFrom(16 * 1024 + 1, 40_000, 64 * 1024 + 1, 300_000).map((size) => JSON.stringify({ pad: 'x'.repeat(size) })),
  fc
    .record(
      {
        paymentMethod: fc.oneof(fc.string(), fc.constantFrom('tok_visa', 'tok_', 'tok_' + 'x'.repeat(65), 'tok_\u0000')),
        amount: fc.integer(),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
  fc
    .record(
      {
        sku: fc.oneof(fc.string({ unit: 'binary' }), fc.constant('')),
        name: fc.string(),
        units: fc.oneof(fc.integer(), fc.double(), fc.constant(0)),
        priceCents: fc.oneof(fc.integer(), fc.string()),
        currency: fc.string({ maxLength: 4 }),
        startsAt: fc.oneof(fc.string(), fc.constant('not-a-date')),
        holdSeconds: fc.oneof(fc.integer({ min: -10, max: 0 }), fc.integer({ min: 86_401 })),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
);

const contentType = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/JSON',
      'application/json;charset=UTF-8',
    ),
  },
  fc.constantFrom('application/json; charset=latin1', 'application/json; charset=utf-16', 'application/problem+json'),
  fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '*/*', 'application/*'),
  headerValue,
);

interface BodyPart {
  headers: Record<string, string>;
  body?: string | Buffer;
  text?: string;
}

const bodyPart: fc.Arbitrary<BodyPart> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ headers: {} }) },
  {
    weight: 5,
    arbitrary: fc
      .record({
        type: fc.option(contentType, { nil: undefined }),
        encoding: fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-unknown'), { freq: 8, nil: undefined }),
        text: jsonText,
      })
      .map(({ type, encoding, text }) => ({
        headers: { ...(type !== undefined && { 'content-type': type }), ...(encoding && { 'content-encoding': encoding }) },
        body: text,
        text,
      })),
  },
);

const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/);
const randomHeaders: fc.Arbitrary<Record<string, string>> = fc
  .tuple(
    fc.dictionary(headerName, headerValue, { maxKeys: 3 }),
    fc.record(
      {
        'x-request-id': headerValue,
        'x-forwarded-for': fc.oneof(fc.ipV4(), fc.ipV6(), headerValue),
        accept: headerValue,
        'accept-encoding': fc.constantFrom('gzip', 'br', '*', 'identity;q=0'),
        origin: fc.webUrl(),
        cookie: headerValue,
      },
      { requiredKeys: [] },
    ),
  )
  .map(([a, b]) => ({ ...a, ...b }));

function withBody(allowed: readonly number[], part: BodyPart): number[] {
  return part.body === undefined ? [...allowed] : [...new Set([...allowed, ...BODY_ERRORS])];
}

function make(
  label: string,
  method: string,
  path: string,
  authorization: string | undefined,
  part: BodyPart,
  extra: Record<string, string>,
  allowed: readonly number[],
): FuzzRequest {
  const headers: Record<string, string> = { ...extra, ...part.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  // Node refuses request headers over 16 KiB with 431 (as problem+json, api/client-errors.ts)
  // before any route sees them: the right answer to such a request, whatever it asks for.
  const headerBytes = Object.entries(headers).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value) + 4,
    0,
  );
  const oversized = headerBytes + Buffer.byteLength(path) > 15 * 1024;
  return { label, method, path, headers, body: part.body, allowed: oversized ? [...allowed, 431] : allowed };
}

/** JSON text that, once parsed, `accept`s; such bodies are kept out of runs where they would change state. */
function parsesTo(text: string | undefined, accept: (value: unknown) => boolean): boolean {
  if (text === undefined) return false;
  try {
    return accept(JSON.parse(text));
  } catch {
    return false;
  }
}

const isValidPayment = (value: unknown) =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { paymentMethod?: unknown }).paymentMethod === 'string' &&
  PAYMENT_METHOD_PATTERN.test((value as { paymentMethod: string }).paymentMethod);
const isValidSale = (value: unknown) => createSaleBody.safeParse(value).success;

export function fuzzArbitraries(world: FuzzWorld) {
  const bearer = (token: string) => `Bearer ${token}`;
  const forged: fc.Arbitrary<string | undefined> = fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.constantFrom(...world.forgedAuthorizations) },
    fc.string({ unit: printable, maxLength: 200 }).map(bearer),
    headerValue,
  );
  const stranger = fc.constantFrom(...world.strangerTokens).map(bearer);
  const admin = fc.constant(bearer(world.adminToken));
  const everyReservation = [...world.held, world.keyed, ...world.settled];
  const ownersOf = (list: OwnedReservation[]) => fc.constantFrom(...list);
  const reservationIds = everyReservation.map((r) => r.id);
  const saleIds = [...world.soldOutSaleIds, world.scheduledSaleId];
  const common = { part: bodyPart, extra: randomHeaders };
  /** A request at one of the run's reservations, by `auth`, that must be answered with one of `allowed`. */
  const onReservation = (
    label: string,
    method: string,
    pathOf: (reservationId: string) => string,
    auth: fc.Arbitrary<string | undefined>,
    allowed: (part: BodyPart) => readonly number[],
  ) =>
    fc
      .record({ target: idFrom(reservationIds), auth, ...common })
      .map(({ target, auth: authorization, part, extra }) =>
        make(label, method, pathOf(target.id), authorization, part, extra, allowed(part)),
      );

  const createSale = fc.oneof(
    fc
      .record({ auth: fc.oneof(forged, stranger), ...common })
      .map(({ auth, part, extra }) =>
        make('POST /v1/sales (not admin)', 'POST', '/v1/sales', auth, part, extra, withBody([401], part)),
      ),
    fc
      .record({ auth: admin, ...common })
      .filter(({ part }) => !parsesTo(part.text, isValidSale))
      .map(({ auth, part, extra }) =>
        make('POST /v1/sales (admin, invalid body)', 'POST', '/v1/sales', auth, part, extra, [...BODY_ERRORS]),
      ),
  );

  const getSale = fc
    .record({ target: idFrom(saleIds), auth: fc.oneof(forged, stranger, admin), ...common })
    .map(({ target, auth, part, extra }) =>
      make(
        'GET /v1/sales/:id',
        'GET',
        `/v1/sales/${target.id}`,
        auth,
        part,
        extra,
        withBody(target.known ? [200] : [400, 404], part),
      ),
    );

  const claimPath = (saleId: string) => `/v1/sales/${saleId}/reservations`;
  const idempotencyKey = fc.option(
    fc.oneof(fc.string({ unit: printable, minLength: 1, maxLength: 300 }), headerValue, fc.constant(world.keyed.idempotencyKey)),
    { nil: undefined },
  );
  const claim = fc.oneof(
    fc
      .record({ target: idFrom(saleIds), auth: fc.oneof(forged, admin), key: idempotencyKey, ...common })
      .map(({ target, auth, key, part, extra }) =>
        make(
          'POST /v1/sales/:id/reservations (not a shopper)',
          'POST',
          claimPath(target.id),
          auth,
          part,
          {
            ...extra,
            ...(key !== undefined && { 'idempotency-key': key }),
          },
          [400, 401],
        ),
      ),
    fc
      .record({
        target: idFrom(saleIds),
        token: fc.oneof(
          stranger,
          ownersOf(everyReservation).map((r) => bearer(r.token)),
        ),
        key: idempotencyKey,
        ...common,
      })
      .filter(
        ({ target, token, key }) => !(token === bearer(world.keyed.token) && key === world.keyed.idempotencyKey && target.known),
      )
      .map(({ target, token, key, part, extra }) =>
        make(
          'POST /v1/sales/:id/reservations (nothing to claim)',
          'POST',
          claimPath(target.id),
          token,
          part,
          {
            ...extra,
            ...(key !== undefined && { 'idempotency-key': key }),
          },
          withBody([400, 404, 409, 425], part),
        ),
      ),
    fc.record({ extra: randomHeaders }).map(({ extra }) =>
      make(
        'POST /v1/sales/:id/reservations (idempotent replay)',
        'POST',
        claimPath(world.keyed.saleId),
        bearer(world.keyed.token),
        { headers: {} },
        {
          ...extra,
          'idempotency-key': world.keyed.idempotencyKey,
        },
        [201],
      ),
    ),
  );

  const getReservation = fc.oneof(
    onReservation(
      'GET /v1/reservations/:id (no valid token)',
      'GET',
      (id) => `/v1/reservations/${id}`,
      forged,
      (part) => withBody([400, 401], part),
    ),
    onReservation(
      'GET /v1/reservations/:id (not its owner)',
      'GET',
      (id) => `/v1/reservations/${id}`,
      stranger,
      (part) => withBody([400, 404], part),
    ),
    fc
      .record({ owned: ownersOf(everyReservation), admin: fc.boolean(), extra: randomHeaders })
      .map(({ owned, admin: asAdmin, extra }) =>
        make(
          'GET /v1/reservations/:id (owner or admin)',
          'GET',
          `/v1/reservations/${owned.id}`,
          bearer(asAdmin ? world.adminToken : owned.token),
          { headers: {} },
          extra,
          [200],
        ),
      ),
  );

  const payPath = (id: string) => `/v1/reservations/${id}/payment`;
  const payment = fc.oneof(
    fc
      .record({ target: idFrom(reservationIds), auth: fc.oneof(forged, admin), ...common })
      .map(({ target, auth, part, extra }) =>
        make('POST /v1/reservations/:id/payment (not a shopper)', 'POST', payPath(target.id), auth, part, extra, [400, 401]),
      ),
    onReservation('POST /v1/reservations/:id/payment (not its owner)', 'POST', payPath, stranger, () => [400, 404, 413, 415]),
    fc
      .record({ owned: ownersOf([...world.held, world.keyed]), ...common })
      .filter(({ part }) => !parsesTo(part.text, isValidPayment))
      .map(({ owned, part, extra }) =>
        make(
          'POST /v1/reservations/:id/payment (owner, invalid body)',
          'POST',
          payPath(owned.id),
          bearer(owned.token),
          part,
          extra,
          [...BODY_ERRORS],
        ),
      ),
    fc
      .record({ owned: ownersOf(world.settled), ...common })
      .map(({ owned, part, extra }) =>
        make(
          'POST /v1/reservations/:id/payment (owner, settled)',
          'POST',
          payPath(owned.id),
          bearer(owned.token),
          part,
          extra,
          [400, 409, 413, 415],
        ),
      ),
  );

  const cancelPath = (id: string) => `/v1/reservations/${id}/cancel`;
  const cancel = fc.oneof(
    onReservation(
      'POST /v1/reservations/:id/cancel (no valid token)',
      'POST',
      (id) => cancelPath(id),
      forged,
      (part) => withBody([400, 401], part),
    ),
    onReservation(
      'POST /v1/reservations/:id/cancel (not its owner)',
      'POST',
      (id) => cancelPath(id),
      stranger,
      (part) => withBody([400, 404], part),
    ),
    fc
      .record({ owned: ownersOf(world.settled), admin: fc.boolean(), ...common })
      .map(({ owned, admin: asAdmin, part, extra }) =>
        make(
          'POST /v1/reservations/:id/cancel (settled)',
          'POST',
          cancelPath(owned.id),
          bearer(asAdmin ? world.adminToken : owned.token),
          part,
          extra,
          withBody([409], part),
        ),
      ),
  );

  const eventBody = fc.oneof(
    fc
      .record({
        id: fc.string({ minLength: 1 }),
        type: fc.constantFrom('charge.succeeded', 'charge.failed', 'charge.refunded'),
        data: fc.record({
          chargeId: fc.string({ minLength: 1 }),
          reference: fc.constantFrom(...reservationIds),
          gateway: fc.constantFrom('primary', 'secondary'),
        }),
      })
      .map((event) => JSON.stringify(event)),
    jsonText,
  );
  const now = () => Math.floor(Date.now() / 1000);
  const forgedSignature = (raw: string): fc.Arbitrary<string | undefined> =>
    fc.oneof(
      fc.constant(undefined),
      headerValue,
      fc
        .string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 })
        .map((hex) => `t=${now()},v1=${hex}`),
      fc
        .string({ minLength: 12 })
        .map((secret) => signWebhook(secret === world.webhookSecret ? `${secret}!` : secret, raw, now())),
      fc.integer({ min: 301, max: 10_000_000 }).map((age) => signWebhook(world.webhookSecret, raw, now() - age)),
      fc.integer({ min: 400, max: 10_000_000 }).map((ahead) => signWebhook(world.webhookSecret, raw, now() + ahead)),
      fc.constant(signWebhook(world.webhookSecret, `${raw} `, now())),
      fc.constant(signWebhook(world.webhookSecret, raw, now()).replace('v1=', 'v0=')),
      fc.constant(signWebhook(world.webhookSecret, raw, now()).replace(/^t=(\d+)/, 't=$1.5')),
    );
  const webhook = eventBody
    .chain((raw) =>
      fc.record({
        raw: fc.constant(raw),
        signature: forgedSignature(raw),
        type: fc.option(contentType, { nil: undefined }),
        extra: randomHeaders,
      }),
    )
    .filter(({ raw, signature }) => !verifyWebhookSignature(world.webhookSecret, signature, raw, now()).ok)
    .map(({ raw, signature, type, extra }) => {
      const headers: Record<string, string> = { ...extra, ...(type !== undefined && { 'content-type': type }) };
      if (signature !== undefined) headers['x-signature'] = signature;
      return {
        label: 'POST /v1/webhooks/payments (forged)',
        method: 'POST',
        path: '/v1/webhooks/payments',
        headers,
        body: raw,
        allowed: [400, 413],
      };
    });

  const health = fc
    .record({
      path: fc.constantFrom('/healthz', '/readyz', '/metrics', '/HEALTHZ', '/healthz/'),
      method: fc.constantFrom('GET', 'HEAD'),
      auth: forged,
      extra: randomHeaders,
    })
    .map(({ path, method, auth, extra }) => make(`${method} health`, method, path, auth, { headers: {} }, extra, [200]));

  const segment = fc.oneof(
    fc.constantFrom('v1', 'v2', 'sales', 'reservations', 'webhooks', 'payments', 'admin', 'metrics', '..', '.', '%2e%2e', ''),
    strangeId,
  );
  const anywhere = fc
    .record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD'),
      segments: fc.array(segment, { minLength: 1, maxLength: 5 }),
      auth: fc.oneof(forged, stranger),
      ...common,
    })
    .map(({ method, segments, auth, part, extra }) =>
      make(
        'any method, any path',
        method,
        `/${segments.join('/')}`,
        auth,
        part,
        extra,
        [200, 204, 400, 401, 404, 405, 409, 413, 415, 425, 431],
      ),
    );

  return { createSale, getSale, claim, getReservation, payment, cancel, webhook, health, anywhere };
}
