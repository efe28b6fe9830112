import { describe, expect, it } from 'vitest';
import { Prng, hashString, mixSeed } from '../../src/simulator/prng';
import { formatDuration } from '../../src/simulator/ratelimit';
import { cachedAmount } from '../../src/simulator/cache';

describe('Prng', () => {
  it.each([1, 42, 0xdeadbeef])('is reproducible for seed %i', (seed) => {
    const a = new Prng(seed);
    const b = new Prng(seed);
    const seqA = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA);
    expect(seqA.every((v) => v >= 0 && v < 1)).toBe(true);
  });

  it('differs between seeds', () => {
    expect(new Prng(1).next()).not.toBe(new Prng(2).next());
  });

  it.each([
    [0, 0],
    [1, 6],
    [-3, 3],
  ])('int(%i, %i) stays within bounds and hits both ends', (min, max) => {
    const rng = new Prng(7);
    const seen = new Set(Array.from({ length: 500 }, () => rng.int(min, max)));
    expect(Math.min(...seen)).toBe(min);
    expect(Math.max(...seen)).toBe(max);
  });

  it('gaussian has mean ~0 and sd ~1', () => {
    const rng = new Prng(3);
    const xs = Array.from({ length: 20_000 }, () => rng.gaussian());
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(Math.abs(mean)).toBeLessThan(0.05);
    expect(Math.abs(sd - 1)).toBeLessThan(0.05);
  });

  it('forks are independent of later draws on the parent', () => {
    const a = new Prng(5);
    const b = new Prng(5);
    const forkA = a.fork('x');
    b.next();
    expect(forkA.next()).toBe(new Prng(5).fork('x').next());
    expect(a.fork('y').next()).not.toBe(new Prng(5).fork('x').next());
  });

  it('makes ids and uuids of the right shape', () => {
    const rng = new Prng(9);
    expect(rng.id(29)).toMatch(/^[A-Za-z0-9]{29}$/);
    expect(rng.hex(32)).toMatch(/^[0-9a-f]{32}$/);
    expect(rng.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('hashing', () => {
  it.each([
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('FNV-1a of %j', (text, expected) => {
    expect(hashString(text)).toBe(expected);
  });

  it('mixSeed is order-sensitive and deterministic', () => {
    expect(mixSeed(1, 'a')).toBe(mixSeed(1, 'a'));
    expect(mixSeed(1, 'a')).not.toBe(mixSeed('a', 1));
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [6, '6ms'],
    [8640, '8.64s'],
    [90_000, '1m30s'],
  ])('%i ms -> %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('cachedAmount', () => {
  it.each([
    [0, 0],
    [1023, 0],
    [1024, 1024],
    [1151, 1024],
    [1152, 1152],
    [5000, 4992],
  ])('prefix of %i tokens -> %i cached', (prefix, cached) => {
    expect(cachedAmount(prefix)).toBe(cached);
  });
});
