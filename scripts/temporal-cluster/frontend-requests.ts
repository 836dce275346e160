/*
 * `npm run cluster:requests [-- <metrics url>]`: the requests the real server's frontend has
 * served since it started, per operation, from its Prometheus counter `service_requests`. Run a
 * known number of reservations through `TEMPORAL_SERVER=cluster npm run dev`, then this, to see
 * how many Temporal requests one reservation costs (docs/TEMPORAL-CLUSTER.md, rate limits).
 */
const url = process.argv[2] ?? `http://127.0.0.1:${Number(process.env.TEMPORAL_PORT ?? 7233) + 47}/metrics`;

function label(labels: string, name: string): string | undefined {
  return new RegExp(`${name}="([^"]*)"`).exec(labels)?.[1];
}

async function main(): Promise<void> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const byOperation = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^service_requests\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || label(match[1]!, 'service_name') !== 'frontend') continue;
    const operation = label(match[1]!, 'operation') ?? '?';
    byOperation.set(operation, (byOperation.get(operation) ?? 0) + Number(match[2]));
  }
  const rows = [...byOperation].sort((a, b) => b[1] - a[1]);
  const total = rows.reduce((sum, [, count]) => sum + count, 0);
  for (const [operation, count] of rows) process.stdout.write(`${String(count).padStart(8)}  ${operation}\n`);
  process.stdout.write(`${String(total).padStart(8)}  total frontend requests (${url})\n`);
}

main().catch((error: unknown) => {
  console.error(`cluster:requests failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
