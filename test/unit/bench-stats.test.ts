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
    ['flat', [[0, 10], [50, 10], [100, 10]], 0],
    ['a line', [[0, 1], [10, 21], [20, 41]], 2],
    ['noise around a line', [[0, 0], [1, 3], [2, 4], [3, 7]], 2.2],
    ['one point', [[5, 5]], NaN],
    ['no spread in x', [[1, 2], [1, 3]], NaN],
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
