// Small statistics helpers for the benchmark: quantiles with linear interpolation.

export function quantile(values, q) {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (!xs.length) return NaN;
  if (xs.length === 1) return xs[0];
  const pos = (xs.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo);
}

export const median = (values) => quantile(values, 0.5);
export const p99 = (values) => quantile(values, 0.99);

/** Least-squares slope of y over x for points `{ x, y }` (NaN for fewer than two distinct x). */
export function slope(points) {
  if (points.length < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / points.length;
  const my = points.reduce((a, p) => a + p.y, 0) / points.length;
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx ? points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0) / sxx : NaN;
}

/** Element-wise differences of two equally long series (paired repetitions). */
export function paired(a, b) {
  const n = Math.min(a.length, b.length);
  const out = [];
  for (let i = 0; i < n; i++) out.push(a[i] - b[i]);
  return out;
}

/** Rounds for display: 1 decimal under 100, whole numbers above. */
export function fmt(v, digits) {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  const d = digits ?? (Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0);
  return v.toFixed(d);
}

export function fmtSigned(v, digits) {
  if (!Number.isFinite(v)) return '—';
  const s = fmt(v, digits);
  return v > 0 ? `+${s}` : s;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '—';
  const abs = Math.abs(n);
  if (abs >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(2)} MiB`;
  if (abs >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}

/**
 * The heap series of a memory run (checkpoints of `{ calls, heapUsed, … }`, the first at 0
 * calls): growth from the first loaded checkpoint to the last, fitted over all of them and over
 * the run's second half.
 */
export function summarizeMemory(res) {
  const pts = res.points;
  const at = (n) => pts.find((p) => p.calls === n);
  const first = pts[1];
  const last = pts[pts.length - 1];
  // Least-squares slope of heapUsed over the checkpoints from the first one on (bytes per call):
  // one noisy checkpoint moves it less than it moves a difference of two.
  const slopeOf = (fit) => slope(fit.map((p) => ({ x: p.calls, y: p.heapUsed })));
  const perCall = slopeOf(pts.slice(1));
  // The second half of the run: bounded caches (the token-count memo, V8's own) have filled by
  // then, so what still grows there is what a leak looks like.
  const half = last.calls / 2;
  const late = pts.filter((p) => p.calls >= half);
  const lateSlope = late.length >= 3 ? slopeOf(late) : NaN;
  return {
    lateFrom: late[0]?.calls,
    lateBytesPerCall: lateSlope,
    lateFittedGrowth: lateSlope * (last.calls - (late[0]?.calls ?? last.calls)),
    concurrency: res.concurrency,
    points: pts.map((p) => ({ calls: p.calls, heapUsed: p.heapUsed, heapTotal: p.heapTotal, rss: p.rss, external: p.external })),
    growth: last.heapUsed - first.heapUsed,
    growthFrom: first.calls,
    growthTo: last.calls,
    bytesPerCall: perCall,
    fittedGrowth: perCall * (last.calls - first.calls),
    atStart: at(0)?.heapUsed,
  };
}
