import { Agent, request } from 'undici';

export interface FuzzRequest {
  /** What the request exercises, for the report and for failure messages. */
  label: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Statuses this request may be answered with; anything else fails the property. */
  allowed: readonly number[];
}

export interface FuzzAnswer {
  status: number;
  contentType: string;
  text: string;
}

export function fuzzClient(baseUrl: string, connections: number) {
  const dispatcher = new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000 });
  const statuses = new Map<number, number>();
  const labels = new Map<string, number>();
  let sent = 0;

  async function send(fuzz: FuzzRequest): Promise<FuzzAnswer> {
    const response = await request(baseUrl + fuzz.path, {
      method: fuzz.method as 'GET',
      headers: fuzz.headers,
      body: fuzz.body,
      dispatcher,
    });
    const text = await response.body.text();
    sent += 1;
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
    labels.set(fuzz.label, (labels.get(fuzz.label) ?? 0) + 1);
    return { status: response.statusCode, contentType: String(response.headers['content-type'] ?? ''), text };
  }

  return {
    send,
    report: () => ({
      sent,
      statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
      labels: Object.fromEntries([...labels].sort()),
    }),
    close: () => dispatcher.close(),
  };
}

/** The problems of one answer, empty when it is acceptable: never 5xx, an allowed status, problem+json errors. */
export function answerProblems(fuzz: FuzzRequest, answer: FuzzAnswer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500) problems.push(`5xx answer ${answer.status}`);
  if (!fuzz.allowed.includes(answer.status)) problems.push(`status ${answer.status} not in [${fuzz.allowed.join(', ')}]`);
  if (answer.status >= 400 && fuzz.method !== 'HEAD') {
    if (!answer.contentType.startsWith('application/problem+json')) problems.push(`content type ${answer.contentType}`);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(answer.text) as Record<string, unknown>;
    } catch {
      problems.push('error body is not JSON');
    }
    for (const field of ['type', 'title', 'detail'] as const)
      if (typeof body[field] !== 'string' || body[field] === '') problems.push(`no ${field}`);
    if (body.status !== answer.status) problems.push(`body status ${String(body.status)}`);
  }
  return problems;
}

export function describeRequest(fuzz: FuzzRequest): string {
  const body = fuzz.body === undefined ? '' : String(fuzz.body);
  return JSON.stringify({
    label: fuzz.label,
    method: fuzz.method,
    path: fuzz.path.length > 200 ? `${fuzz.path.slice(0, 200)}…(${fuzz.path.length})` : fuzz.path,
    headers: Object.fromEntries(Object.entries(fuzz.headers).map(([k, v]) => [k, v.length > 200 ? `${v.slice(0, 200)}…` : v])),
    body: body.length > 300 ? `${body.slice(0, 300)}…(${body.length})` : body,
  });
}
