import { describe, expect, it } from 'vitest';
import { isRetryableStatus, requestedDelayMs, retryDelayMs, sleep } from '../../src/guards/retry';

const h = (o: Record<string, string>) => new Headers(o);
const settings = { maxDelayMs: 8_000, retryAfterMaxMs: 60_000 };
const NOW = Date.parse('2026-11-23T12:00:00Z');

describe('retry policy', () => {
  it.each([
    [200, {}, false],
    [400, {}, false],
    [401, {}, false],
    [404, {}, false],
    [408, {}, true],
    [409, {}, true],
    [422, {}, false],
    [429, {}, true],
    [500, {}, true],
    [503, {}, true],
    [503, { 'x-should-retry': 'false' }, false],
    [400, { 'x-should-retry': 'true' }, true],
  ])('status %i with %o is retryable: %s', (status, headers, expected) => {
    expect(isRetryableStatus(status, h(headers))).toBe(expected);
  });

  it.each([
    [{}, undefined],
    [{ 'retry-after-ms': '250' }, 250],
    [{ 'retry-after-ms': '250', 'retry-after': '9' }, 250],
    [{ 'retry-after': '0' }, 0],
    [{ 'retry-after': '1.5' }, 1500],
    [{ 'retry-after': 'Mon, 23 Nov 2026 12:00:03 GMT' }, 3000],
    [{ 'retry-after': 'Mon, 23 Nov 2026 11:59:00 GMT' }, 0],
    [{ 'retry-after': 'soon' }, undefined],
    [{ 'retry-after': '-1' }, undefined],
  ])('the provider asked for %o: %s ms', (headers, expected) => {
    expect(requestedDelayMs(h(headers), NOW)).toBe(expected);
  });

  it.each([
    // retry, random, headers, expected
    [1, 0, {}, 500],
    [2, 0, {}, 1000],
    [3, 0, {}, 2000],
    [5, 0, {}, 8000], // capped
    [9, 0, {}, 8000],
    [1, 1, {}, 375], // 25% jitter off
    [3, 0.5, {}, 1750],
    [2, 0, { 'retry-after': '0' }, 0],
    [2, 0, { 'retry-after': '30' }, 30_000],
    [2, 0, { 'retry-after': '61' }, undefined], // longer than we honour: not now
  ])('retry %i (random %d, headers %o) waits %s ms', (retry, random, headers, expected) => {
    expect(retryDelayMs(retry, settings, h(headers), NOW, () => random)).toBe(expected);
  });

  it('sleep rejects at once with the abort reason', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
    await expect(sleep(5, ac.signal)).rejects.toThrow('stop');
    await expect(sleep(0)).resolves.toBeUndefined();
  });
});
