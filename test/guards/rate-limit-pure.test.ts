// The rate limiter's pure parts, as tables: header durations, limit resolution, window maths.
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema';
import { parseCount, parseResetMs } from '../../src/guards/rate-limit/duration';
import { anyLimit, limitsResolver } from '../../src/guards/rate-limit/limits';
import { capacityWait, SlidingWindow, WINDOW_MS, type WindowEntry } from '../../src/guards/rate-limit/window';

describe('parseResetMs (x-ratelimit-reset-*)', () => {
  it.each([
    ['1s', 1_000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['0.5s', 500],
    ['1m30.5s', 90_500],
    ['2h', 7_200_000],
    ['1h2m3s', 3_723_000],
    ['0s', 0],
    ['0.1s', 100],
    ['7.66s', 7_660],
    ['1.5ms', 2],
    ['999us', 1],
    ['1500µs', 2],
    ['  12s ', 12_000],
    ['12', 12_000],
    ['0.25', 250],
    ['.5s', 500],
    ['', undefined],
    ['s', undefined],
    ['1x', undefined],
    ['-1s', undefined],
    ['1s garbage', undefined],
    ['abc', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('%j → %j', (text, ms) => expect(parseResetMs(text)).toBe(ms));
});

describe('parseCount (x-ratelimit-remaining-*)', () => {
  it.each([
    ['0', 0],
    ['499', 499],
    [' 12 ', 12],
    ['1.5', undefined],
    ['-1', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j → %j', (text, n) => expect(parseCount(text)).toBe(n));
});

describe('limitsResolver', () => {
  const config = configSchema.parse({
    rate_limit_rpm: 100,
    rate_limit_tpm: 10_000,
    rate_limits: [
      { provider: 'openai', model: 'gpt-4o-mini*', rpm: 5 },
      { model: 'gpt-4o*', tpm: 50 },
      { provider: 'xai', rpm: 7, tpm: 70 },
      { provider: 'azure.ai.openai', model: 'unlimited-*' },
    ],
  });
  const of = limitsResolver(config);
  it.each([
    ['openai', 'gpt-4o-mini', { rpm: 5 }], // first match wins, whole
    ['openai', 'gpt-4o-mini-2024-07-18', { rpm: 5 }],
    ['azure.ai.openai', 'gpt-4o-mini', { tpm: 50 }], // provider must match exactly
    ['openai', 'gpt-4o', { tpm: 50 }],
    ['xai', 'grok-4', { rpm: 7, tpm: 70 }],
    ['xai', 'gpt-4o', { tpm: 50 }],
    ['openai', 'o3', { rpm: 100, tpm: 10_000 }], // no entry: the global limits
    ['azure.ai.openai', 'unlimited-1', undefined], // an entry without limits exempts its targets
  ])('%s %s → %j', (provider, model, limits) => expect(of({ provider, model })).toEqual(limits));

  it('no limits anywhere → inactive', () => {
    expect(anyLimit(configSchema.parse({}))).toBe(false);
    expect(limitsResolver(configSchema.parse({}))({ provider: 'openai', model: 'x' })).toBeUndefined();
    expect(anyLimit(configSchema.parse({ rate_limit_tpm: 1 }))).toBe(true);
    expect(anyLimit(configSchema.parse({ rate_limits: [{ model: 'x', rpm: 1 }] }))).toBe(true);
    expect(anyLimit(configSchema.parse({ rate_limits: [{ model: 'x' }] }))).toBe(false);
  });
});

describe('capacityWait', () => {
  const W = WINDOW_MS;
  const e = (...pairs: [number, number][]): WindowEntry[] => pairs.map(([at, tokens]) => ({ at, tokens }));
  const sum = (entries: WindowEntry[]) => entries.reduce((a, x) => a + x.tokens, 0);
  it.each([
    // [what, entries, tokens, limits, now, expected]
    ['empty window', e(), 10, { rpm: 1, tpm: 10 }, 1_000, { waitMs: 0 }],
    ['rpm: one slot left', e([0, 1], [10, 1]), 1, { rpm: 3 }, 100, { waitMs: 0 }],
    ['rpm: full → oldest leaves at at+W', e([0, 1], [10, 1], [20, 1]), 1, { rpm: 3 }, 100, { waitMs: W - 100, limit: 'rpm' }],
    ['rpm 2 of 3 entries: the 2nd oldest must leave', e([0, 1], [10, 1], [20, 1]), 1, { rpm: 2 }, 100, { waitMs: 10 + W - 100, limit: 'rpm' }],
    ['tpm: fits exactly', e([0, 40], [10, 50]), 10, { tpm: 100 }, 100, { waitMs: 0 }],
    ['tpm: one over → the first entry must leave', e([0, 40], [10, 50]), 11, { tpm: 100 }, 100, { waitMs: W - 100, limit: 'tpm' }],
    ['tpm: needs both to leave', e([0, 40], [10, 50]), 61, { tpm: 100 }, 100, { waitMs: 10 + W - 100, limit: 'tpm' }],
    ['tpm: oversized request waits for an empty window', e([0, 1], [10, 1], [30, 1]), 500, { tpm: 100 }, 100, { waitMs: 30 + W - 100, limit: 'tpm' }],
    ['tpm: oversized request, empty window → admitted', e(), 500, { tpm: 100 }, 100, { waitMs: 0 }],
    ['tpm: zero tokens always fit', e([0, 100]), 0, { tpm: 100 }, 100, { waitMs: 0 }],
    ['both block: the longer wait decides (tpm)', e([0, 1], [50, 99]), 2, { rpm: 2, tpm: 100 }, 100, { waitMs: 50 + W - 100, limit: 'tpm' }],
    ['both block: the longer wait decides (rpm)', e([0, 99], [50, 1]), 1, { rpm: 1, tpm: 100 }, 100, { waitMs: 50 + W - 100, limit: 'rpm' }],
    ['equal waits: rpm', e([0, 100]), 1, { rpm: 1, tpm: 100 }, 100, { waitMs: W - 100, limit: 'rpm' }],
    ['1 ms before the entry leaves', e([0, 1]), 1, { rpm: 1 }, W - 1, { waitMs: 1, limit: 'rpm' }],
  ] as const)('%s', (_what, entries, tokens, limits, now, expected) => {
    expect(capacityWait(entries as WindowEntry[], 0, sum(entries as WindowEntry[]), tokens, limits, now)).toEqual(expected);
  });

  it('honours the start index (entries before it are gone)', () => {
    const entries = e([0, 50], [10, 50], [20, 50]);
    expect(capacityWait(entries, 1, 100, 1, { rpm: 2 }, 100)).toEqual({ waitMs: 10 + W - 100, limit: 'rpm' });
    expect(capacityWait(entries, 1, 100, 1, { rpm: 3 }, 100)).toEqual({ waitMs: 0 });
  });
});

describe('SlidingWindow', () => {
  it('an entry counts for exactly one window, then leaves (prune at at + W)', () => {
    const w = new SlidingWindow();
    w.add(1_000, 10);
    w.add(2_000, 20);
    expect(w.check(1_000 + WINDOW_MS - 1, 1, { rpm: 2 })).toEqual({ waitMs: 1, limit: 'rpm' });
    expect([w.size, w.tokens]).toEqual([2, 30]);
    expect(w.check(1_000 + WINDOW_MS, 1, { rpm: 2 })).toEqual({ waitMs: 0 });
    expect([w.size, w.tokens]).toEqual([1, 20]);
    expect(w.prune(2_000 + WINDOW_MS)).toBe(true);
    expect([w.size, w.tokens]).toEqual([0, 0]);
  });

  it('reweigh corrects a live entry and ignores one that left', () => {
    const w = new SlidingWindow();
    const a = w.add(0, 100);
    const b = w.add(10, 100);
    w.reweigh(b, 30, 20);
    expect(w.tokens).toBe(130);
    w.reweigh(a, 0, WINDOW_MS + 5); // a left the window: no change to the sum
    expect([w.size, w.tokens]).toEqual([1, 30]);
  });

  it('keeps send order when the clock steps back', () => {
    const w = new SlidingWindow();
    w.add(5_000, 1);
    const e = w.add(4_000, 1);
    expect(e.at).toBe(5_000);
  });

  it('compacts: many entries through the window do not pile up', () => {
    const w = new SlidingWindow();
    for (let t = 0; t < 10 * WINDOW_MS; t += 100) {
      w.check(t, 1, { rpm: 1_000_000 });
      w.add(t, 1);
    }
    expect(w.size).toBe(WINDOW_MS / 100);
    expect((w as unknown as { entries: unknown[] }).entries.length).toBeLessThanOrEqual(2 * (WINDOW_MS / 100) + 65);
  });
});
