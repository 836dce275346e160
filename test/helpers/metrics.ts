/** One sample of a Prometheus exposition at `metricsUrl`: the first line of `name` whose labels include `labels`; 0 when none. */
export async function metricSample(metricsUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const match = /^([a-z_:]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    if (wanted.every((w) => (match[2]?.split(',') ?? []).includes(w))) return Number(match[3]);
  }
  return 0;
}
