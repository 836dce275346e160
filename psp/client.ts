/**
 * A typed client of the PSP for the worker's payment activities. Business results are values
 * (a discriminated union); only transient failures throw, as `PspUnavailableError`.
 */
import type { Charge, FailureReason, Ledger, ProblemBody, Refund } from './types';

export type { Charge, FailureReason, Ledger, ProblemBody, Refund } from './types';

export interface ChargeParams {
  idempotencyKey: string;
  amountCents: number;
  currency: string;
  paymentMethod: string;
  /** Our reservation id. */
  reference: string;
  metadata?: Record<string, string>;
}

export interface RefundParams {
  idempotencyKey: string;
  chargeId: string;
  reason?: string;
}

/** 4xx other than 402: the request itself is wrong (or conflicts); retrying it cannot help. */
export interface Rejected {
  kind: 'rejected';
  status: number;
  problem: ProblemBody;
}

export type ChargeOutcome =
  | { kind: 'succeeded'; charge: Charge; replayed: boolean }
  | { kind: 'declined'; charge: Charge; reason: FailureReason; replayed: boolean }
  /** The key was voided (`voidChargeKey`): this provider will never charge with it. */
  | { kind: 'voided' }
  | Rejected;

/** `voided`: no charge was made with the key and none ever will be; `charged`: the one that was. */
export type KeyVoidOutcome = { kind: 'voided' } | { kind: 'charged'; charge: Charge };

export type RefundOutcome = { kind: 'succeeded'; refund: Refund; replayed: boolean } | Rejected;

/**
 * The PSP could not give an answer. `reachedServer: false` only when the request certainly never
 * arrived (connection refused, DNS failure): only then may another gateway be tried without
 * risking a double charge. Resets, timeouts and 5xx are `true`: the charge may have happened.
 */
export class PspUnavailableError extends Error {
  override readonly name = 'PspUnavailableError';
  constructor(
    message: string,
    readonly reachedServer: boolean,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface PspClientOptions {
  baseUrl: string;
  /** Per request, including reading the answer. */
  timeoutMs: number;
}

export interface PspClient {
  charge(params: ChargeParams): Promise<ChargeOutcome>;
  refund(params: RefundParams): Promise<RefundOutcome>;
  /** Voids a charge key, or reports the charge made with it. Repeatable; transient failures throw. */
  voidChargeKey(idempotencyKey: string): Promise<KeyVoidOutcome>;
  /** undefined when the PSP has no such charge. */
  getCharge(id: string): Promise<Charge | undefined>;
  chargesByReference(reference: string): Promise<Charge[]>;
  ledger(): Promise<Ledger>;
}

const NEVER_ARRIVED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** Every error code in a fetch failure's cause chain (including AggregateError members). */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const own = 'code' in error && typeof error.code === 'string' ? [error.code] : [];
  const nested = error instanceof AggregateError ? error.errors.flatMap((e: unknown) => errorCodes(e, depth + 1)) : [];
  const cause = 'cause' in error ? errorCodes(error.cause, depth + 1) : [];
  return [...own, ...nested, ...cause];
}

function unreachable(error: unknown, what: string): PspUnavailableError {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new PspUnavailableError(`${what}: timed out`, true, undefined, { cause: error });
  }
  const codes = errorCodes(error);
  const neverArrived = codes.length > 0 && codes.every((code) => NEVER_ARRIVED.has(code));
  const detail = codes.length ? codes.join(', ') : String(error);
  return new PspUnavailableError(`${what}: ${detail}`, !neverArrived, undefined, { cause: error });
}

/** The last segment of a problem's `type`. */
function problemCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('type' in body) || typeof body.type !== 'string') return undefined;
  return body.type.slice(body.type.lastIndexOf('/') + 1);
}

function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export function createPspClient(options: PspClientOptions): PspClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');

  const call = async (method: 'GET' | 'POST', path: string, body?: object, idempotencyKey?: string) => {
    const what = `${method} ${path}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body) headers['content-type'] = 'application/json';
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    let status: number;
    let replayed: boolean;
    let text: string;
    try {
      const response = await fetch(baseUrl + path, {
        method,
        headers,
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = response.status;
      replayed = response.headers.get('idempotent-replayed') === 'true';
      text = await response.text();
    } catch (error) {
      throw unreachable(error, what);
    }
    if (isTransientStatus(status)) throw new PspUnavailableError(`${what}: HTTP ${status}`, true, status);
    try {
      return { status, replayed, body: JSON.parse(text) as unknown };
    } catch (error) {
      throw new PspUnavailableError(`${what}: HTTP ${status} with an unreadable body`, true, status, { cause: error });
    }
  };

  const rejected = (status: number, body: unknown): Rejected => ({ kind: 'rejected', status, problem: body as ProblemBody });
  const ok = (status: number) => status >= 200 && status < 300;

  const expectOk = async <T>(path: string): Promise<T> => {
    const answer = await call('GET', path);
    if (!ok(answer.status)) throw new Error(`GET ${path}: HTTP ${answer.status}`);
    return answer.body as T;
  };

  return {
    charge: async ({ idempotencyKey, ...params }) => {
      const { status, replayed, body } = await call('POST', '/v1/charges', params, idempotencyKey);
      if (ok(status)) return { kind: 'succeeded', charge: body as Charge, replayed };
      if (status === 402) {
        const charge = (body as ProblemBody & { charge: Charge }).charge;
        return { kind: 'declined', charge, reason: charge.failureReason ?? 'card_declined', replayed };
      }
      if (status === 409 && problemCode(body) === 'idempotency-key-voided') return { kind: 'voided' };
      return rejected(status, body);
    },
    voidChargeKey: async (idempotencyKey) => {
      const path = `/v1/charge-keys/${encodeURIComponent(idempotencyKey)}/void`;
      const { status, body } = await call('POST', path, {});
      if (ok(status)) return { kind: 'voided' };
      if (status === 409 && problemCode(body) === 'charge-exists')
        return { kind: 'charged', charge: (body as { charge: Charge }).charge };
      throw new Error(`POST ${path}: HTTP ${status}`);
    },
    refund: async ({ idempotencyKey, ...params }) => {
      const { status, replayed, body } = await call('POST', '/v1/refunds', params, idempotencyKey);
      if (ok(status)) return { kind: 'succeeded', refund: body as Refund, replayed };
      return rejected(status, body);
    },
    getCharge: async (id) => {
      const path = `/v1/charges/${encodeURIComponent(id)}`;
      const answer = await call('GET', path);
      if (answer.status === 404) return undefined;
      if (!ok(answer.status)) throw new Error(`GET ${path}: HTTP ${answer.status}`);
      return answer.body as Charge;
    },
    chargesByReference: async (reference) =>
      (await expectOk<{ data: Charge[] }>(`/v1/charges?reference=${encodeURIComponent(reference)}`)).data,
    ledger: () => expectOk<Ledger>('/v1/ledger'),
  };
}
