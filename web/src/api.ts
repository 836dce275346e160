/** The JSON API on the page's own origin, with problem+json errors as `ApiError`. */

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extra: string]: unknown;
}

export class ApiError extends Error {
  constructor(readonly problem: ProblemBody) {
    super(problem.detail || problem.title);
  }

  /** The problem's code: the last segment of its type URI (`sold-out`, `hold-expired`, …). */
  get code(): string {
    return this.problem.type.split('/').pop() ?? '';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

let offsetMs = 0;

/** The server's clock minus this one's, from the last answer's Date header (1 s resolution). */
export function serverOffsetMs(): number {
  return offsetMs;
}

function noteServerClock(response: Response): void {
  const date = Date.parse(response.headers.get('date') ?? '');
  // Date drops the milliseconds: only a skew beyond its resolution is worth correcting.
  if (Number.isFinite(date) && Math.abs(date + 500 - Date.now()) > 1_500) offsetMs = date + 500 - Date.now();
}

export async function callApi<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: options.method ?? 'GET',
      headers,
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
    });
  } catch {
    throw new ApiError({
      type: 'network',
      title: 'No connection',
      status: 0,
      detail: 'the service cannot be reached; try again',
    });
  }
  noteServerClock(response);
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const problem = (parsed ?? {}) as Partial<ProblemBody>;
    throw new ApiError({
      ...problem,
      type: problem.type ?? `http-${response.status}`,
      title: problem.title ?? response.statusText,
      status: response.status,
      detail: problem.detail ?? '',
    });
  }
  return parsed as T;
}
