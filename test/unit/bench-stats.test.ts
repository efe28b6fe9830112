import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ES module of the benchmark harness, without types
import { fmtBytes, fmtSigned, median, p99, paired, quantile, slope } from '../../scripts/bench/lib/stats.mjs';

/** The benchmark's arithmetic (scripts/bench/lib/stats.mjs), as tables. */
describe('bench statistics', () => {
  it.each([
    [[], 0.5, NaN],
    [[7], 0.99, 7],
    [[1, 2, 3, 4], 0.5, 2.5],
    [[4, 1, 3, 2], 0, 1],
    [[4, 1, 3, 2], 1, 4],
    [[0, 10], 0.25, 2.5],
    [[1, NaN, 3, Infinity], 0.5, 2],
  ])('quantile(%j, %d) = %d', (values, q, expected) => {
    expect(quantile(values, q)).toEqual(expected);
  });

  it('median and p99', () => {
    const xs = Array.from({ length: 101 }, (_, i) => i);
    expect(median(xs)).toBe(50);
    expect(p99(xs)).toBe(99);
  });

  it('paired differences, as long as the shorter series', () => {
    expect(paired([5, 7, 9], [1, 2])).toEqual([4, 5]);
  });

  it.each([
    [
      'flat',
      [
        [0, 10],
        [50, 10],
        [100, 10],
      ],
      0,
    ],
    [
      'a line',
      [
        [0, 1],
        [10, 21],
        [20, 41],
      ],
      2,
    ],
    [
      'noise around a line',
      [
        [0, 0],
        [1, 3],
        [2, 4],
        [3, 7],
      ],
      2.2,
    ],
    ['one point', [[5, 5]], NaN],
    [
      'no spread in x',
      [
        [1, 2],
        [1, 3],
      ],
      NaN,
    ],
  ])('slope: %s', (_name, pts, expected) => {
    const s = slope((pts as number[][]).map(([x, y]) => ({ x, y })));
    if (Number.isNaN(expected)) expect(s).toBeNaN();
    else expect(s).toBeCloseTo(expected as number, 10);
  });

  it.each([
    [512, '512 B'],
    [2048, '2.0 KiB'],
    [3 * 1024 * 1024, '3.00 MiB'],
    [-510.7 * 1024, '-510.7 KiB'],
  ])('fmtBytes(%d) = %s', (n, text) => {
    expect(fmtBytes(n)).toBe(text);
  });

  it('fmtSigned marks gains', () => {
    expect(fmtSigned(12.345)).toBe('+12.3');
    expect(fmtSigned(-0.5)).toBe('-0.50');
    expect(fmtSigned(NaN)).toBe('—');
  });
});

describe('bench heap summary', () => {
  const run = (heapAt: (calls: number) => number) => ({
    concurrency: 16,
    points: [0, 10_000, 25_000, 50_000, 62_500, 75_000, 87_500, 100_000].map((calls) => ({ calls, heapUsed: heapAt(calls), heapTotal: 0, rss: 0, external: 0 })),
  });

  it.each([
    ['flat', () => 40e6, 0, 0],
    ['a leak of 100 B a call', (c: number) => 40e6 + 100 * c, 9_000_000, 5_000_000],
    ['a cache that fills, then stays: growth over the whole run, none in the second half', (c: number) => 40e6 + Math.min(c, 40_000) * 50, null, 0],
  ])('%s', (_name, heapAt, fitted, late) => {
    // @ts-expect-error: the harness's module has no types
    return import('../../scripts/bench/lib/stats.mjs').then(({ summarizeMemory }) => {
      const m = summarizeMemory(run(heapAt as (c: number) => number));
      expect(m.growthFrom).toBe(10_000);
      expect(m.lateFrom).toBe(50_000);
      if (fitted === null) expect(m.fittedGrowth).toBeGreaterThan(500_000);
      else expect(m.fittedGrowth).toBeCloseTo(fitted, -3);
      expect(m.lateFittedGrowth).toBeCloseTo(late, -1);
    });
  });
});
