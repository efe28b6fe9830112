import { describe, expect, it } from 'vitest';
import { budgetForecast, forecast, type Forecast, type ForecastInput } from '../../src/cost/forecast';
import { parseWindow } from '../../src/cost/windows';

const H = 3_600_000;
const DAY = { startMs: 0, endMs: 24 * H, rolling: false };

/** Spend forecasts as a table: linear over the elapsed calendar window; a rolling window stays where it is. */
const cases: [string, ForecastInput, Forecast][] = [
  ['start of the window: nothing to project from', { ...DAY, spent: 0, limit: 100, nowMs: 0 }, { projected: 0 }],
  ['start of the window with spend: no elapsed time, no rate', { ...DAY, spent: 5, limit: 100, nowMs: 0 }, { projected: 5 }],
  ['no spend: projects zero, never exhausts', { ...DAY, spent: 0, limit: 100, nowMs: 12 * H }, { projected: 0 }],
  ['a quarter of the day, a quarter of the limit: on course, reached at the very end', { ...DAY, spent: 25, limit: 100, nowMs: 6 * H }, { projected: 100, exhaustsInMs: 18 * H }],
  ['a quarter of the day, half the limit: twice the limit, reached at noon', { ...DAY, spent: 50, limit: 100, nowMs: 6 * H }, { projected: 200, exhaustsInMs: 6 * H }],
  ['under pace: reached after the window resets, so not in it', { ...DAY, spent: 10, limit: 100, nowMs: 12 * H }, { projected: 20 }],
  ['spend already over the limit: exhausted now', { ...DAY, spent: 120, limit: 100, nowMs: 12 * H }, { projected: 240, exhaustsInMs: 0 }],
  ['spend exactly at the limit: exhausted now', { ...DAY, spent: 100, limit: 100, nowMs: 23 * H }, { projected: Math.round((100 * 24) / 23), exhaustsInMs: 0 }],
  ['a window almost over: the projection is about the spend', { ...DAY, spent: 99, limit: 100, nowMs: 24 * H - 60_000 }, { projected: 99 }],
  ['a window almost over, on course to reach the limit within its last minute', { ...DAY, spent: 99_990, limit: 100_000, nowMs: 24 * H - 60_000 }, { projected: 100_059, exhaustsInMs: 8_635 }],
  ['a rate of zero (no spend) late in the window: no exhaustion', { ...DAY, spent: 0, limit: 100, nowMs: 23 * H }, { projected: 0 }],
  ['rolling window: the spend stays where it is, no exhaustion', { startMs: 0, endMs: H, nowMs: H, rolling: true, spent: 60, limit: 100 }, { projected: 60 }],
  ['rolling window over its limit: exhausted now', { startMs: 0, endMs: H, nowMs: H, rolling: true, spent: 150, limit: 100 }, { projected: 150, exhaustsInMs: 0 }],
];

describe('forecast()', () => {
  it.each(cases)('%s', (_name, input, expected) => {
    const got = forecast(input);
    expect(got.projected).toBe(expected.projected);
    expect(got.exhaustsInMs).toBe(expected.exhaustsInMs);
  });
});

describe('budgetForecast()', () => {
  it('a day in UTC: the current window from the clock, with how much of it has passed', () => {
    const now = Date.parse('2026-12-03T06:00:00Z');
    const f = budgetForecast(parseWindow('day'), 25, 100, Date.parse('2026-12-04T00:00:00Z'), now);
    expect(f).toEqual({ projected: 100, exhaustsInMs: 18 * H, elapsed: 0.25 });
  });

  it('a state from a window that has reset counts as no spend in the current one', () => {
    const now = Date.parse('2026-12-03T06:00:00Z');
    const f = budgetForecast(parseWindow('day'), 90, 100, Date.parse('2026-12-03T00:00:00Z'), now);
    expect(f.projected).toBe(0);
    expect(f.exhaustsInMs).toBeUndefined();
  });

  it('a rolling window: projected is the spend, the whole duration counts as elapsed', () => {
    expect(budgetForecast(parseWindow('1h'), 40, 100, 0, 5 * H)).toEqual({ projected: 40, elapsed: 1 });
  });
});
