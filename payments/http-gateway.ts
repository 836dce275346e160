/**
 * The production `PaymentGateway`: the provider's HTTP API (`POST /v1/charges`, `POST /v1/refunds`,
 * `POST /v1/charge-keys/:key/void`, `GET /v1/charges…`, `GET /v1/ledger`), the API the simulator
 * in psp-simulator/ serves.
 */
import {
  GatewayUnavailableError,
  type Charge,
  type Ledger,
  type PaymentGateway,
  type ProblemBody,
  type Refund,
  type Rejected,
} from './gateway';

export interface HttpGatewayOptions {
  baseUrl: string;
  /** Per request, including reading the answer. */
  timeoutMs: number;
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

function unreachable(error: unknown, what: string): GatewayUnavailableError {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new GatewayUnavailableError(`${what}: timed out`, true, undefined, { cause: error });
  }
  const codes = errorCodes(error);
  const neverArrived = codes.length > 0 && codes.every((code) => NEVER_ARRIVED.has(code));
  const detail = codes.length ? codes.join(', ') : String(error);
  return new GatewayUnavailableError(`${what}: ${detail}`, !neverArrived, undefined, { cause: error });
}

/** The last segment of a problem's `type`. */
function problemCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || !('type' in body) || typeof body.type !== 'string') return undefined;
  return body.type.slice(body.type.lastIndexOf('/') + 1);
}

function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

export function createHttpGateway(options: HttpGatewayOptions): PaymentGateway {
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
    if (isTransientStatus(status)) throw new GatewayUnavailableError(`${what}: HTTP ${status}`, true, status);
    try {
      return { status, replayed, body: JSON.parse(text) as unknown };
    } catch (error) {
      throw new GatewayUnavailableError(`${what}: HTTP ${status} with an unreadable body`, true, status, { cause: error });
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
