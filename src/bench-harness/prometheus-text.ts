/** Reading samples out of Prometheus text exposition (what GET /metrics answers). */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const pair of (m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    out.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return out;
}

/** Sum of every sample of `name` (all label sets); NaN when there is none. */
export function sumOf(samples: readonly PromSample[], name: string): number {
  let total = Number.NaN;
  for (const s of samples) if (s.name === name) total = (Number.isNaN(total) ? 0 : total) + s.value;
  return total;
}

/** Values of `name` by the value of one label. */
export function byLabel(samples: readonly PromSample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === name) out[s.labels[label] ?? ''] = s.value;
  return out;
}
