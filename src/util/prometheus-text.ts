/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Parses the text format (comments and blank lines skipped). */
export function parsePrometheusText(text: string): Sample[] {
  const out: Sample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return out;
}

/**
 * The q-quantile of a cumulative histogram, interpolated linearly within the bucket, as
 * Prometheus' histogram_quantile() does. `buckets` are [upper bound, cumulative count].
 */
export function histogramQuantile(q: number, buckets: [number, number][]): number | undefined {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  if (!sorted.length) return undefined;
  const total = sorted[sorted.length - 1][1];
  if (!total) return undefined;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return prevBound;
      const inBucket = count - prevCount;
      return inBucket ? prevBound + ((bound - prevBound) * (rank - prevCount)) / inBucket : bound;
    }
    prevBound = bound;
    prevCount = count;
  }
  return prevBound;
}

/** Groups a histogram's `_bucket` samples by their other labels. */
export function histogramSeries(samples: Sample[], baseName: string, by: (labels: Record<string, string>) => string) {
  const series = new Map<string, { labels: Record<string, string>; buckets: [number, number][]; count: number; sum: number }>();
  const get = (labels: Record<string, string>) => {
    const key = by(labels);
    let s = series.get(key);
    if (!s) series.set(key, (s = { labels, buckets: [], count: 0, sum: 0 }));
    return s;
  };
  const bounds = new Map<string, Map<number, number>>();
  for (const s of samples) {
    if (s.name === `${baseName}_bucket`) {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      const key = by(s.labels);
      get(s.labels);
      const m = bounds.get(key) ?? new Map<number, number>();
      m.set(le, (m.get(le) ?? 0) + s.value);
      bounds.set(key, m);
    } else if (s.name === `${baseName}_count`) get(s.labels).count += s.value;
    else if (s.name === `${baseName}_sum`) get(s.labels).sum += s.value;
  }
  for (const [key, m] of bounds) series.get(key)!.buckets = [...m.entries()];
  return series;
}
