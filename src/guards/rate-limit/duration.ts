/**
 * Durations in the providers' rate-limit headers (`x-ratelimit-reset-requests`,
 * `x-ratelimit-reset-tokens`): Go-style durations such as `1s`, `6m0s`, `20ms`, `0.5s`,
 * `1m30.5s`, `1h2m`, and a bare number of seconds (`12`, `0.25`).
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/y;
const BARE = /^(\d+(?:\.\d*)?|\.\d+)$/;

/** Milliseconds (rounded up to a whole ms), or undefined when the text is not a duration. */
export function parseResetMs(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  if (s === '') return undefined;
  if (BARE.test(s)) return ceilMs(Number(s) * 1_000);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < s.length) {
    const at = PART.lastIndex;
    const m = PART.exec(s);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return ceilMs(total);
}

/** A non-negative whole count (`x-ratelimit-remaining-*`), or undefined. */
export function parseCount(text: string | null | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const s = text.trim();
  if (!/^\d+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

function ceilMs(ms: number): number | undefined {
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  // 1e-9 absorbs binary noise (0.1s * 1000 = 100.00000000000001 must stay 100).
  return Math.max(0, Math.ceil(ms - 1e-9));
}
