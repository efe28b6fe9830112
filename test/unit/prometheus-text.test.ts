import { describe, expect, it } from 'vitest';
import { histogramQuantile, histogramSeries, parsePrometheusText } from '../../src/util/prometheus-text';

describe('parsePrometheusText', () => {
  it('parses names, labels (with escapes) and values', () => {
    const s = parsePrometheusText(`# HELP x y\n# TYPE a counter\na_total{k="v",q="a\\"b"} 3\nb 1.5e3\nc_bucket{le="+Inf"} 7\n`);
    expect(s).toEqual([
      { name: 'a_total', labels: { k: 'v', q: 'a"b' }, value: 3 },
      { name: 'b', labels: {}, value: 1500 },
      { name: 'c_bucket', labels: { le: '+Inf' }, value: 7 },
    ]);
  });
});

describe('histogramQuantile', () => {
  it.each([
    // q, buckets, expected
    [
      0.5,
      [
        [1, 50],
        [2, 100],
        [Infinity, 100],
      ],
      1,
    ],
    [
      0.95,
      [
        [1, 50],
        [2, 100],
        [Infinity, 100],
      ],
      1.9,
    ],
    [
      0.5,
      [
        [0.1, 0],
        [0.2, 10],
        [Infinity, 10],
      ],
      0.15,
    ],
    [
      0.99,
      [
        [1, 0],
        [Infinity, 10],
      ],
      1,
    ],
    [
      0.5,
      [
        [1, 0],
        [Infinity, 0],
      ],
      undefined,
    ],
  ] as [number, [number, number][], number | undefined][])('q=%s', (q, buckets, expected) => {
    const v = histogramQuantile(q, buckets);
    if (expected === undefined) expect(v).toBeUndefined();
    else expect(v).toBeCloseTo(expected, 10);
  });
});

describe('histogramSeries', () => {
  it('groups buckets, counts and sums by the chosen labels', () => {
    const s = parsePrometheusText(
      ['h_bucket{m="a",le="1"} 1', 'h_bucket{m="a",le="+Inf"} 2', 'h_count{m="a"} 2', 'h_sum{m="a"} 3', 'h_bucket{m="b",le="1"} 0', 'h_bucket{m="b",le="+Inf"} 1', 'h_count{m="b"} 1'].join('\n'),
    );
    const series = histogramSeries(s, 'h', (l) => l.m);
    expect(series.get('a')).toMatchObject({
      count: 2,
      sum: 3,
      buckets: [
        [1, 1],
        [Infinity, 2],
      ],
    });
    expect(series.get('b')?.count).toBe(1);
  });
});
