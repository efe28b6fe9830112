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

export function mean(values) {
  const xs = values.filter((v) => Number.isFinite(v));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

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
