/**
 * Budget windows: pure functions of a window spec and an injected clock (`nowMs`).
 *
 * - Calendar windows (day, ISO week starting Monday, month) are computed in an IANA time zone
 *   (default UTC). Their bounds are the instants at which the local date changes, so a day is
 *   23 or 25 hours long across a DST change, and a day whose midnight falls into a DST gap starts
 *   at the transition.
 * - Rolling windows keep spend in time buckets of `rollingBucketMs(duration)`; a bucket counts
 *   while any part of it lies inside [now − duration, now], so a spend leaves the window at most
 *   one bucket late (never early: budgets err on the safe side).
 */

export type WindowSpec = { kind: 'calendar'; unit: 'day' | 'week' | 'month'; timezone: string } | { kind: 'rolling'; durationMs: number };

export interface WindowInstance {
  /** Calendar: '2026-11-23', '2026-W48' (ISO week-year and week), '2026-11', in the window's time zone; rolling: 'rolling'. */
  id: string;
  /** Calendar: when the window began. Rolling: the start of the oldest bucket still counted (≤ now − duration). */
  startMs: number;
  /** Calendar: when the window resets. Rolling: the end of the current bucket, when the oldest counted bucket next falls out. */
  endMs: number;
}

const DURATION_UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DAY_MS = 86_400_000;

/** Parses 'day' | 'week' | 'month' (calendar, in `timezone`, default UTC) or a duration like '90m', '12h', '30d', '45s' (rolling). */
export function parseWindow(text: string, timezone?: string): WindowSpec {
  const value = typeof text === 'string' ? text.trim().toLowerCase() : '';
  if (value === 'day' || value === 'week' || value === 'month') {
    const tz = timezone ?? 'UTC';
    assertTimezone(tz);
    return { kind: 'calendar', unit: value, timezone: tz };
  }
  const match = /^(\d+)\s*([smhd])$/.exec(value);
  if (match) {
    const durationMs = Number(match[1]) * DURATION_UNITS[match[2]!]!;
    if (durationMs > 0 && Number.isSafeInteger(durationMs)) return { kind: 'rolling', durationMs };
    throw new Error(`invalid budget window ${JSON.stringify(text)}: the duration must be greater than zero`);
  }
  throw new Error(`invalid budget window ${JSON.stringify(text)}: expected day, week, month or a duration like 90m, 12h, 30d`);
}

/** Bucket size for a rolling window: duration / 60 (whole milliseconds), at least 1 s. */
export function rollingBucketMs(durationMs: number): number {
  return Math.max(1_000, Math.floor(durationMs / 60));
}

/** The window instance that contains `nowMs`. */
export function currentWindow(spec: WindowSpec, nowMs: number): WindowInstance {
  if (!Number.isFinite(nowMs)) throw new Error(`currentWindow: nowMs must be a finite number, got ${nowMs}`);
  if (spec.kind === 'rolling') {
    if (!(spec.durationMs > 0)) throw new Error(`rolling window: durationMs must be > 0, got ${spec.durationMs}`);
    const bucket = rollingBucketMs(spec.durationMs);
    return {
      id: 'rolling',
      startMs: Math.floor((nowMs - spec.durationMs) / bucket) * bucket,
      endMs: Math.floor(nowMs / bucket) * bucket + bucket,
    };
  }
  // The hot path: the same window as last time for this spec (computing one costs ~50 µs).
  const cacheKey = `${spec.unit}|${spec.timezone}`;
  const cached = lastWindows.get(cacheKey);
  if (cached && cached.startMs <= nowMs && nowMs < cached.endMs) return { ...cached };
  const computed = calendarWindow(spec.unit, spec.timezone, nowMs);
  if (lastWindows.size >= 256) lastWindows.clear();
  lastWindows.set(cacheKey, computed);
  return { ...computed };
}

const lastWindows = new Map<string, WindowInstance>();

function calendarWindow(unit: 'day' | 'week' | 'month', tz: string, nowMs: number): WindowInstance {
  const local = localDate(nowMs, tz);
  switch (unit) {
    case 'day': {
      const next = addDays(local, 1);
      return { id: formatDate(local), startMs: startOfLocalDay(local, tz), endMs: startOfLocalDay(next, tz) };
    }
    case 'week': {
      const weekday = (dayNumber(local) + 3) % 7; // 0 = Monday (day 0 of the epoch, 1970-01-01, was a Thursday)
      const monday = addDays(local, -weekday);
      const thursday = addDays(monday, 3); // the ISO week belongs to the year of its Thursday
      const week = Math.floor((dayNumber(thursday) - dayNumber({ y: thursday.y, m: 1, d: 1 })) / 7) + 1;
      return {
        id: `${pad(thursday.y, 4)}-W${pad(week, 2)}`,
        startMs: startOfLocalDay(monday, tz),
        endMs: startOfLocalDay(addDays(monday, 7), tz),
      };
    }
    case 'month': {
      const first = { y: local.y, m: local.m, d: 1 };
      const next = local.m === 12 ? { y: local.y + 1, m: 1, d: 1 } : { y: local.y, m: local.m + 1, d: 1 };
      return { id: `${pad(local.y, 4)}-${pad(local.m, 2)}`, startMs: startOfLocalDay(first, tz), endMs: startOfLocalDay(next, tz) };
    }
    default:
      throw new Error(`unknown calendar window unit ${JSON.stringify(unit)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Local dates in a time zone, through Intl.DateTimeFormat (cached per zone).

interface LocalDate {
  y: number;
  m: number;
  d: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Builds a calendar window's time-zone formatter now (ICU's first one costs ~15 ms), not on the first call. */
export function warmWindow(spec: WindowSpec): void {
  if (spec.kind === 'calendar') formatter(spec.timezone).format(0);
}

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

function assertTimezone(timezone: string): void {
  try {
    formatter(timezone);
  } catch {
    throw new Error(`invalid budget window time zone ${JSON.stringify(timezone)}: expected an IANA name like UTC or Europe/Berlin`);
  }
}

/** Local wall-clock fields at a UTC instant, as if they were UTC (ms), floored to the second. */
function wallClockMs(utcMs: number, timezone: string): number {
  const fields: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!);
}

/** The zone's UTC offset (ms) at a UTC instant. */
function offsetAt(utcMs: number, timezone: string): number {
  const floored = Math.floor(utcMs / 1000) * 1000;
  return wallClockMs(floored, timezone) - floored;
}

function localDate(utcMs: number, timezone: string): LocalDate {
  const d = new Date(wallClockMs(utcMs, timezone));
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}

/** The first instant whose local date (in `timezone`) is `date`. */
function startOfLocalDay(date: LocalDate, timezone: string): number {
  const local = dayNumber(date) * DAY_MS; // local midnight, as if it were UTC
  // The offsets just before and just after; this assumes at most one transition within ±36 h.
  const before = offsetAt(local - 36 * 3_600_000, timezone);
  const after = offsetAt(local + 36 * 3_600_000, timezone);
  const candidates = [local - before, local - after].filter((t) => t + offsetAt(t, timezone) === local);
  // Midnight happens twice (fall back over midnight): the first one. It does not happen at all
  // (spring forward over midnight): the day starts at the transition, which is local − before.
  return candidates.length > 0 ? Math.min(...candidates) : local - before;
}

/** Days since 1970-01-01 for a proleptic Gregorian date. */
function dayNumber(date: LocalDate): number {
  return Date.UTC(date.y, date.m - 1, date.d) / DAY_MS;
}

function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date((dayNumber(date) + days) * DAY_MS);
  return { y: d.getUTCFullYear(), m: d.getUTCMonth() + 1, d: d.getUTCDate() };
}

function formatDate(date: LocalDate): string {
  return `${pad(date.y, 4)}-${pad(date.m, 2)}-${pad(date.d, 2)}`;
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}
