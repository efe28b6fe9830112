import { describe, expect, it } from 'vitest';
import { currentWindow, parseWindow, rollingBucketMs, type WindowSpec } from '../../src/cost/windows';

const t = (iso: string) => Date.parse(iso);
const cal = (unit: 'day' | 'week' | 'month', timezone = 'UTC'): WindowSpec => ({ kind: 'calendar', unit, timezone });

describe('parseWindow', () => {
  it.each([
    ['day', undefined, { kind: 'calendar', unit: 'day', timezone: 'UTC' }],
    ['week', 'Europe/Berlin', { kind: 'calendar', unit: 'week', timezone: 'Europe/Berlin' }],
    [' Month ', 'America/New_York', { kind: 'calendar', unit: 'month', timezone: 'America/New_York' }],
    ['90m', undefined, { kind: 'rolling', durationMs: 90 * 60_000 }],
    ['12h', 'Europe/Berlin', { kind: 'rolling', durationMs: 12 * 3_600_000 }],
    ['30d', undefined, { kind: 'rolling', durationMs: 30 * 86_400_000 }],
    ['45s', undefined, { kind: 'rolling', durationMs: 45_000 }],
  ] as const)('%j (tz %s)', (text, tz, expected) => {
    expect(parseWindow(text, tz)).toEqual(expected);
  });

  it.each(['hour', '12', '1.5h', '12x', '-5m', '', 'days', '10 weeks'])('rejects %j with a clear message', (text) => {
    expect(() => parseWindow(text)).toThrow(/expected day, week, month or a duration like 90m, 12h, 30d/);
  });

  it('rejects a zero duration and an unknown time zone', () => {
    expect(() => parseWindow('0m')).toThrow(/greater than zero/);
    expect(() => parseWindow('day', 'Mars/Olympus_Mons')).toThrow(/time zone "Mars\/Olympus_Mons"/);
  });
});

describe('rollingBucketMs', () => {
  it.each([
    [90 * 60_000, 90_000],
    [12 * 3_600_000, 720_000],
    [30 * 86_400_000, 43_200_000],
    [45_000, 1_000],
    [60_000, 1_000],
    [61_000, 1_016],
  ])('%i ms → %i ms', (duration, bucket) => {
    expect(rollingBucketMs(duration)).toBe(bucket);
  });
});

describe('currentWindow: calendar', () => {
  const rows: [string, WindowSpec, string, string, string, string][] = [
    // [label, spec, now, id, start, end]
    ['UTC day', cal('day'), '2026-11-23T15:00:00Z', '2026-11-23', '2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z'],
    ['UTC day, first ms', cal('day'), '2026-11-23T00:00:00.000Z', '2026-11-23', '2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z'],
    ['UTC day, last ms', cal('day'), '2026-11-23T23:59:59.999Z', '2026-11-23', '2026-11-23T00:00:00Z', '2026-11-24T00:00:00Z'],
    ['UTC week, Monday', cal('week'), '2026-11-23T15:00:00Z', '2026-W48', '2026-11-23T00:00:00Z', '2026-11-30T00:00:00Z'],
    ['UTC week, Sunday last ms', cal('week'), '2026-11-29T23:59:59.999Z', '2026-W48', '2026-11-23T00:00:00Z', '2026-11-30T00:00:00Z'],
    ['UTC month', cal('month'), '2026-11-23T15:00:00Z', '2026-11', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'],
    ['UTC month end (30 days)', cal('month'), '2026-11-30T23:59:59.999Z', '2026-11', '2026-11-01T00:00:00Z', '2026-12-01T00:00:00Z'],
    ['leap day', cal('day'), '2028-02-29T12:00:00Z', '2028-02-29', '2028-02-29T00:00:00Z', '2028-03-01T00:00:00Z'],
    ['leap February', cal('month'), '2028-02-29T12:00:00Z', '2028-02', '2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z'],
    ['year end, day', cal('day'), '2026-12-31T23:59:59.999Z', '2026-12-31', '2026-12-31T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['year end, month', cal('month'), '2026-12-31T23:59:59.999Z', '2026-12', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['new year, month', cal('month'), '2027-01-01T00:00:00Z', '2027-01', '2027-01-01T00:00:00Z', '2027-02-01T00:00:00Z'],
    ['ISO week 53 (2026 ends on a Thursday)', cal('week'), '2026-12-31T12:00:00Z', '2026-W53', '2026-12-28T00:00:00Z', '2027-01-04T00:00:00Z'],
    ['ISO week 53 runs into January', cal('week'), '2027-01-03T23:59:59Z', '2026-W53', '2026-12-28T00:00:00Z', '2027-01-04T00:00:00Z'],
    ['ISO week 1 of 2027', cal('week'), '2027-01-04T00:00:00Z', '2027-W01', '2027-01-04T00:00:00Z', '2027-01-11T00:00:00Z'],
    ['ISO week 1 starts in December', cal('week'), '2024-12-30T08:00:00Z', '2025-W01', '2024-12-30T00:00:00Z', '2025-01-06T00:00:00Z'],
    ['ISO 2020-W53 on 2021-01-03', cal('week'), '2021-01-03T08:00:00Z', '2020-W53', '2020-12-28T00:00:00Z', '2021-01-04T00:00:00Z'],

    // Europe/Berlin: CET (+1) → CEST (+2) on 2026-03-29 at 02:00 local; back on 2026-10-25 at 03:00 local.
    ['Berlin spring-forward day is 23 h', cal('day', 'Europe/Berlin'), '2026-03-29T12:00:00Z', '2026-03-29', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z'],
    ['Berlin: 00:30 local is already the 29th', cal('day', 'Europe/Berlin'), '2026-03-28T23:30:00Z', '2026-03-29', '2026-03-28T23:00:00Z', '2026-03-29T22:00:00Z'],
    ['Berlin: the day before', cal('day', 'Europe/Berlin'), '2026-03-28T22:59:59.999Z', '2026-03-28', '2026-03-27T23:00:00Z', '2026-03-28T23:00:00Z'],
    ['Berlin fall-back day is 25 h', cal('day', 'Europe/Berlin'), '2026-10-25T01:30:00Z', '2026-10-25', '2026-10-24T22:00:00Z', '2026-10-25T23:00:00Z'],
    ['Berlin week across the change', cal('week', 'Europe/Berlin'), '2026-03-29T21:59:59.999Z', '2026-W13', '2026-03-22T23:00:00Z', '2026-03-29T22:00:00Z'],
    ['Berlin month across the change', cal('month', 'Europe/Berlin'), '2026-03-15T00:00:00Z', '2026-03', '2026-02-28T23:00:00Z', '2026-03-31T22:00:00Z'],
    ['Berlin: new year local, still 2026 in UTC', cal('day', 'Europe/Berlin'), '2026-12-31T23:30:00Z', '2027-01-01', '2026-12-31T23:00:00Z', '2027-01-01T23:00:00Z'],
    ['Berlin: month of the new year', cal('month', 'Europe/Berlin'), '2026-12-31T23:30:00Z', '2027-01', '2026-12-31T23:00:00Z', '2027-01-31T23:00:00Z'],
    ['Berlin: week 53 in local time', cal('week', 'Europe/Berlin'), '2026-12-27T23:30:00Z', '2026-W53', '2026-12-27T23:00:00Z', '2027-01-03T23:00:00Z'],

    // America/New_York: EST (−5) → EDT (−4) on 2026-03-08 at 02:00; back on 2026-11-01 at 02:00.
    ['New York spring-forward day is 23 h', cal('day', 'America/New_York'), '2026-03-08T12:00:00Z', '2026-03-08', '2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z'],
    ['New York fall-back day is 25 h', cal('day', 'America/New_York'), '2026-11-01T05:30:00Z', '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z'],
    ['New York: the repeated 01:30', cal('day', 'America/New_York'), '2026-11-01T06:30:00Z', '2026-11-01', '2026-11-01T04:00:00Z', '2026-11-02T05:00:00Z'],
    ['New York: still November locally', cal('month', 'America/New_York'), '2026-12-01T04:59:59.999Z', '2026-11', '2026-11-01T04:00:00Z', '2026-12-01T05:00:00Z'],
    ['New York: December locally', cal('month', 'America/New_York'), '2026-12-01T05:00:00Z', '2026-12', '2026-12-01T05:00:00Z', '2027-01-01T05:00:00Z'],
    ['New York: week with the fall-back Sunday', cal('week', 'America/New_York'), '2026-11-01T12:00:00Z', '2026-W44', '2026-10-26T04:00:00Z', '2026-11-02T05:00:00Z'],

    // Asia/Kolkata (+05:30, no DST) and Pacific/Kiritimati (+14).
    ['Kolkata half-hour offset', cal('day', 'Asia/Kolkata'), '2026-11-23T18:29:59.999Z', '2026-11-23', '2026-11-22T18:30:00Z', '2026-11-23T18:30:00Z'],
    ['Kiritimati +14', cal('day', 'Pacific/Kiritimati'), '2026-11-23T10:00:00Z', '2026-11-24', '2026-11-23T10:00:00Z', '2026-11-24T10:00:00Z'],
  ];

  it.each(rows)('%s', (_label, spec, now, id, start, end) => {
    expect(currentWindow(spec, t(now))).toEqual({ id, startMs: t(start), endMs: t(end) });
  });
});

/** The local calendar date of an instant, straight from Intl (independent of the code under test). */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
function localDay(ms: number, timezone: string): string {
  let f = dayFormats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timezone, f);
  }
  return f.format(new Date(ms));
}

describe('currentWindow: day bounds are the exact instants the local date changes', () => {
  // Zones with DST changes at midnight (Santiago, Havana, Beirut), at other hours, half-hour offsets
  // (Lord Howe changes by 30 min) and none.
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/Santiago', 'America/Havana', 'Asia/Beirut', 'Australia/Lord_Howe', 'Asia/Kolkata', 'Pacific/Auckland'];
  it.each(zones)('%s: every 7 hours through 2026', (timezone) => {
    const spec = cal('day', timezone);
    for (let now = t('2026-01-01T00:00:00Z'); now < t('2027-01-01T00:00:00Z'); now += 7 * 3_600_000) {
      const w = currentWindow(spec, now);
      expect(w.id).toBe(localDay(now, timezone));
      expect(localDay(w.startMs, timezone)).toBe(w.id);
      expect(localDay(w.startMs - 1, timezone)).not.toBe(w.id);
      expect(localDay(w.endMs - 1, timezone)).toBe(w.id);
      expect(localDay(w.endMs, timezone)).not.toBe(w.id);
      expect(w.startMs <= now && now < w.endMs).toBe(true);
    }
  });

  it('America/Santiago 2026-09-06: midnight does not exist, the day starts at the transition', () => {
    // Chile moves from −04 to −03 at local midnight on the first Sunday of September.
    const w = currentWindow(cal('day', 'America/Santiago'), t('2026-09-06T12:00:00Z'));
    expect(w).toEqual({ id: '2026-09-06', startMs: t('2026-09-06T04:00:00Z'), endMs: t('2026-09-07T03:00:00Z') });
  });
});

describe('currentWindow: the per-spec cache', () => {
  it('returns a fresh object each time, and the next window once the current one ends', () => {
    const spec = cal('day', 'Europe/Berlin');
    const a = currentWindow(spec, t('2026-03-29T12:00:00Z'));
    a.endMs = 0;
    a.id = 'changed';
    const b = currentWindow(spec, t('2026-03-29T21:59:59.999Z'));
    expect(b).toEqual({ id: '2026-03-29', startMs: t('2026-03-28T23:00:00Z'), endMs: t('2026-03-29T22:00:00Z') });
    expect(currentWindow(spec, t('2026-03-29T22:00:00Z')).id).toBe('2026-03-30');
    expect(currentWindow(spec, t('2026-03-28T22:59:59.999Z')).id).toBe('2026-03-28');
  });
});

describe('currentWindow: rolling', () => {
  it('90m: buckets of 90 s; start is the oldest counted bucket, end the end of the current one', () => {
    const spec = parseWindow('90m');
    const now = t('2026-11-23T12:00:30Z');
    const bucket = 90_000;
    expect(currentWindow(spec, now)).toEqual({
      id: 'rolling',
      startMs: Math.floor((now - 5_400_000) / bucket) * bucket,
      endMs: Math.floor(now / bucket) * bucket + bucket,
    });
    const w = currentWindow(spec, now);
    expect(w.startMs).toBeLessThanOrEqual(now - 5_400_000);
    expect(w.startMs).toBeGreaterThan(now - 5_400_000 - bucket);
    expect(w.endMs).toBeGreaterThan(now);
    expect(w.endMs).toBeLessThanOrEqual(now + bucket);
  });

  it('a bucket boundary', () => {
    const now = 1_800_000_000_000; // a multiple of 1 s
    expect(currentWindow({ kind: 'rolling', durationMs: 45_000 }, now)).toEqual({ id: 'rolling', startMs: now - 45_000, endMs: now + 1_000 });
  });
});
