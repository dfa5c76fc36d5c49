/** Just enough of the Prometheus text format to read a worker's /metrics in tests. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parsePrometheus(text: string): Sample[] {
  return text.split('\n').flatMap((line) => {
    const m = LINE.exec(line);
    if (!m || line.startsWith('#')) return [];
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(LABEL)].map((l) => [l[1], l[2]?.replace(/\\(.)/g, '$1')]));
    return [{ name: m[1] ?? '', labels, value: Number(m[3]) }];
  });
}

/** The sum of a metric's series whose labels include `labels`. */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export async function scrape(address: string): Promise<Sample[]> {
  const res = await fetch(`http://${address}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics: ${res.status}`);
  return parsePrometheus(await res.text());
}
