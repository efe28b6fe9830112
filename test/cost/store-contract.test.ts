// One contract, two stores: every test here runs against MemoryBudgetStore and against
// RedisBudgetStore on a real redis-server.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBudgetStore } from '../../src/cost/stores/memory';
import { RedisBudgetStore } from '../../src/cost/stores/redis';
import type { BudgetKey, BudgetStore } from '../../src/cost/stores/types';
import { currentWindow, parseWindow, rollingBucketMs } from '../../src/cost/windows';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const DAY_END = Date.parse('2026-11-24T00:00:00Z');

function day(id: string, limit: number, mode: BudgetKey['mode'] = 'check', windowEndMs = DAY_END): BudgetKey {
  return { id, limit, windowEndMs, mode };
}
function rolling(id: string, limit: number, durationMs: number, bucketMs = rollingBucketMs(durationMs)): BudgetKey {
  return { id, limit, windowEndMs: 0, rolling: { durationMs, bucketMs }, mode: 'check' };
}

let redis: RedisTestServer | undefined;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

const factories: [string, () => BudgetStore][] = [
  ['memory', () => new MemoryBudgetStore()],
  ['redis', () => new RedisBudgetStore(redis!.url, { namespace: `test-${randomUUID()}` })],
];

describe.each(factories)('%s store: the BudgetStore contract', (kind, make) => {
  let store: BudgetStore;
  let n = 0;
  const rid = () => `r${++n}`;
  const open = () => {
    store = make();
    return store;
  };
  afterEach(async () => {
    await store?.close();
  });

  it('has its kind', () => {
    expect(open().kind).toBe(kind);
  });

  it('reserve, settle, states', async () => {
    const s = open();
    const key = day('daily-total|2026-11-23', 1_000);
    expect(await s.states([key], T0)).toEqual([{ spent: 0, reserved: 0 }]);
    expect(await s.reserve({ reservationId: 'a', amount: 300, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 })).toEqual({
      ok: true,
      states: [{ spent: 0, reserved: 300 }],
    });
    expect(await s.states([key], T0 + 1)).toEqual([{ spent: 0, reserved: 300 }]);
    expect(await s.settle({ reservationId: 'a', actual: 250, keys: [key], nowMs: T0 + 2 })).toEqual([{ spent: 250, reserved: 0 }]);
    expect(await s.states([key], T0 + 3)).toEqual([{ spent: 250, reserved: 0 }]);
  });

  it('check mode: spent + reserved + amount must be <= limit (equal fits)', async () => {
    const s = open();
    const key = day('d|fit', 1_000);
    await s.reserve({ reservationId: 'a', amount: 400, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 });
    await s.settle({ reservationId: 'a', actual: 400, keys: [key], nowMs: T0 });
    await s.reserve({ reservationId: 'b', amount: 300, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 });
    expect(await s.reserve({ reservationId: 'c', amount: 301, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 })).toEqual({
      ok: false,
      failed: 0,
      states: [{ spent: 400, reserved: 300 }],
    });
    expect(await s.reserve({ reservationId: 'c', amount: 300, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 })).toEqual({
      ok: true,
      states: [{ spent: 400, reserved: 600 }],
    });
  });

  it('all-or-nothing across keys: the second key is full, the first is unchanged', async () => {
    const s = open();
    const total = day('total|2026-11-23', 10_000);
    const tenant = day('per-tenant|acme|2026-11-23', 100);
    const other = day('per-tenant|other|2026-11-23', 100);
    await s.reserve({ reservationId: 'x', amount: 90, keys: [total, tenant], nowMs: T0, expiresAtMs: T0 + 60_000 });
    await s.settle({ reservationId: 'x', actual: 90, keys: [total, tenant], nowMs: T0 });
    const result = await s.reserve({ reservationId: 'y', amount: 50, keys: [total, tenant, other], nowMs: T0, expiresAtMs: T0 + 60_000 });
    expect(result).toEqual({
      ok: false,
      failed: 1,
      states: [
        { spent: 90, reserved: 0 },
        { spent: 90, reserved: 0 },
        { spent: 0, reserved: 0 },
      ],
    });
    expect(await s.states([total, tenant, other], T0)).toEqual([
      { spent: 90, reserved: 0 },
      { spent: 90, reserved: 0 },
      { spent: 0, reserved: 0 },
    ]);
    // The failed reservation is not held anywhere: settling it later adds spend but releases nothing.
    expect(await s.reserve({ reservationId: 'z', amount: 10, keys: [total, tenant, other], nowMs: T0, expiresAtMs: T0 + 60_000 })).toMatchObject({ ok: true });
  });

  it('force mode always reserves (alert-only budgets), even past the limit', async () => {
    const s = open();
    const alertOnly = day('alert|2026-11-23', 100, 'force');
    const hard = day('hard|2026-11-23', 1_000);
    expect(await s.reserve({ reservationId: 'a', amount: 500, keys: [hard, alertOnly], nowMs: T0, expiresAtMs: T0 + 60_000 })).toEqual({
      ok: true,
      states: [
        { spent: 0, reserved: 500 },
        { spent: 0, reserved: 500 },
      ],
    });
    // …but a check key next to it still says no.
    expect(await s.reserve({ reservationId: 'b', amount: 600, keys: [alertOnly, hard], nowMs: T0, expiresAtMs: T0 + 60_000 })).toEqual({
      ok: false,
      failed: 1,
      states: [
        { spent: 0, reserved: 500 },
        { spent: 0, reserved: 500 },
      ],
    });
  });

  it('expired reservations are purged (expiresAtMs < nowMs); a late settle still adds spent', async () => {
    const s = open();
    const key = day('d|expiry', 1_000);
    await s.reserve({ reservationId: 'a', amount: 700, keys: [key], nowMs: T0, expiresAtMs: T0 + 1_000 });
    expect(await s.states([key], T0 + 1_000)).toEqual([{ spent: 0, reserved: 700 }]);
    expect((await s.reserve({ reservationId: 'b', amount: 400, keys: [key], nowMs: T0 + 1_000, expiresAtMs: T0 + 5_000 })).ok).toBe(false);
    expect(await s.states([key], T0 + 1_001)).toEqual([{ spent: 0, reserved: 0 }]);
    expect(await s.reserve({ reservationId: 'b', amount: 400, keys: [key], nowMs: T0 + 1_001, expiresAtMs: T0 + 5_000 })).toEqual({
      ok: true,
      states: [{ spent: 0, reserved: 400 }],
    });
    // The call behind 'a' did finish after all: the money was spent.
    expect(await s.settle({ reservationId: 'a', actual: 650, keys: [key], nowMs: T0 + 2_000 })).toEqual([{ spent: 650, reserved: 400 }]);
    expect(await s.states([key], T0 + 6_000)).toEqual([{ spent: 650, reserved: 0 }]);
  });

  it('settle is idempotent per reservationId (held, and already expired)', async () => {
    const s = open();
    const a = day('d|idem-a', 1_000);
    const b = day('d|idem-b', 1_000);
    await s.reserve({ reservationId: 'held', amount: 300, keys: [a, b], nowMs: T0, expiresAtMs: T0 + 60_000 });
    expect(await s.settle({ reservationId: 'held', actual: 200, keys: [a, b], nowMs: T0 + 10 })).toEqual([
      { spent: 200, reserved: 0 },
      { spent: 200, reserved: 0 },
    ]);
    expect(await s.settle({ reservationId: 'held', actual: 200, keys: [a, b], nowMs: T0 + 20 })).toEqual([
      { spent: 200, reserved: 0 },
      { spent: 200, reserved: 0 },
    ]);
    expect(await s.settle({ reservationId: 'held', actual: 999, keys: [b, a], nowMs: T0 + 30 })).toEqual([
      { spent: 200, reserved: 0 },
      { spent: 200, reserved: 0 },
    ]);
    await s.reserve({ reservationId: 'lost', amount: 100, keys: [a], nowMs: T0, expiresAtMs: T0 + 100 });
    expect(await s.settle({ reservationId: 'lost', actual: 80, keys: [a], nowMs: T0 + 5_000 })).toEqual([{ spent: 280, reserved: 0 }]);
    expect(await s.settle({ reservationId: 'lost', actual: 80, keys: [a], nowMs: T0 + 6_000 })).toEqual([{ spent: 280, reserved: 0 }]);
    // A settle for a reservation this store never saw (reserved elsewhere, purged) still counts once.
    expect(await s.settle({ reservationId: 'unknown', actual: 20, keys: [a], nowMs: T0 + 7_000 })).toEqual([{ spent: 300, reserved: 0 }]);
    expect(await s.settle({ reservationId: 'unknown', actual: 20, keys: [a], nowMs: T0 + 8_000 })).toEqual([{ spent: 300, reserved: 0 }]);
  });

  it('reserving again under the same reservationId replaces the reservation', async () => {
    const s = open();
    const key = day('d|replace', 1_000);
    await s.reserve({ reservationId: 'a', amount: 300, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 });
    expect(await s.reserve({ reservationId: 'a', amount: 900, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 })).toEqual({
      ok: true,
      states: [{ spent: 0, reserved: 900 }],
    });
    expect((await s.reserve({ reservationId: 'a', amount: 1_001, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 })).ok).toBe(false);
    expect(await s.states([key], T0)).toEqual([{ spent: 0, reserved: 900 }]);
  });

  it('rolling windows: spend is kept in buckets and falls out as time passes', async () => {
    const s = open();
    const key = rolling('per-minute|rolling', 350, 60_000, 1_000);
    const t0 = 1_800_000_000_000; // a bucket boundary
    await s.settle({ reservationId: rid(), actual: 100, keys: [key], nowMs: t0 + 500 });
    await s.settle({ reservationId: rid(), actual: 200, keys: [key], nowMs: t0 + 30_000 });
    expect(await s.states([key], t0 + 40_000)).toEqual([{ spent: 300, reserved: 0 }]);
    expect(await s.reserve({ reservationId: 'big', amount: 100, keys: [key], nowMs: t0 + 40_000, expiresAtMs: t0 + 40_100 })).toEqual({
      ok: false,
      failed: 0,
      states: [{ spent: 300, reserved: 0 }],
    });
    // The first bucket [t0, t0 + 1 s) counts while it overlaps [now − 60 s, now].
    expect(await s.states([key], t0 + 60_999)).toEqual([{ spent: 300, reserved: 0 }]);
    expect(await s.states([key], t0 + 61_000)).toEqual([{ spent: 200, reserved: 0 }]);
    expect(await s.reserve({ reservationId: 'big', amount: 100, keys: [key], nowMs: t0 + 61_000, expiresAtMs: t0 + 62_000 })).toEqual({
      ok: true,
      states: [{ spent: 200, reserved: 100 }],
    });
    expect(await s.states([key], t0 + 91_000)).toEqual([{ spent: 0, reserved: 0 }]);
  });

  it('calendar rollover: the next window id starts at 0', async () => {
    const s = open();
    const spec = parseWindow('day', 'Europe/Berlin');
    const today = currentWindow(spec, T0);
    const key = (w: { id: string; endMs: number }) => day(`daily|${w.id}`, 100, 'check', w.endMs);
    await s.reserve({ reservationId: 'a', amount: 100, keys: [key(today)], nowMs: T0, expiresAtMs: T0 + 60_000 });
    await s.settle({ reservationId: 'a', actual: 100, keys: [key(today)], nowMs: T0 + 1 });
    expect((await s.reserve({ reservationId: 'b', amount: 1, keys: [key(today)], nowMs: T0 + 2, expiresAtMs: T0 + 60_000 })).ok).toBe(false);
    const later = today.endMs + 5;
    const tomorrow = currentWindow(spec, later);
    expect(tomorrow.id).toBe('2026-11-24');
    expect(await s.reserve({ reservationId: 'b', amount: 60, keys: [key(tomorrow)], nowMs: later, expiresAtMs: later + 60_000 })).toEqual({
      ok: true,
      states: [{ spent: 0, reserved: 60 }],
    });
    // Yesterday is still there (for the CLI) until the grace period ends.
    expect(await s.states([key(today)], later)).toEqual([{ spent: 100, reserved: 0 }]);
  });

  it('renew: a held reservation lives past its first expiry; a settled or expired one is never brought back', async () => {
    const s = open();
    const key = day('renew|2026-11-23', 1_000);
    await s.reserve({ reservationId: 'long', amount: 400, keys: [key], nowMs: T0, expiresAtMs: T0 + 5_000 });
    await s.renew({ reservationId: 'long', keys: [key], nowMs: T0 + 4_000, expiresAtMs: T0 + 9_000 });
    // Past the first expiry, still held: a second call cannot take its room.
    expect(await s.states([key], T0 + 7_000)).toEqual([{ spent: 0, reserved: 400 }]);
    expect((await s.reserve({ reservationId: 'other', amount: 700, keys: [key], nowMs: T0 + 7_000, expiresAtMs: T0 + 12_000 })).ok).toBe(false);
    // Past the renewed expiry: gone.
    expect(await s.states([key], T0 + 9_500)).toEqual([{ spent: 0, reserved: 0 }]);
    // A settled reservation is not renewed back into existence.
    await s.reserve({ reservationId: 'done', amount: 300, keys: [key], nowMs: T0 + 10_000, expiresAtMs: T0 + 15_000 });
    await s.settle({ reservationId: 'done', actual: 100, keys: [key], nowMs: T0 + 10_001 });
    await s.renew({ reservationId: 'done', keys: [key], nowMs: T0 + 10_002, expiresAtMs: T0 + 60_000 });
    expect(await s.states([key], T0 + 10_003)).toEqual([{ spent: 100, reserved: 0 }]);
    // Nor an expired one.
    await s.renew({ reservationId: 'long', keys: [key], nowMs: T0 + 10_004, expiresAtMs: T0 + 60_000 });
    expect(await s.states([key], T0 + 10_005)).toEqual([{ spent: 100, reserved: 0 }]);
  });

  it('markOnce: true the first time per (key, mark) within the window', async () => {
    const s = open();
    const today = day('daily|2026-11-23', 100);
    const tomorrow = day('daily|2026-11-24', 100, 'check', DAY_END + 86_400_000);
    expect(await s.markOnce(today, 'soft-80', T0)).toBe(true);
    expect(await s.markOnce(today, 'soft-80', T0 + 1_000)).toBe(false);
    expect(await s.markOnce(today, 'soft-80', DAY_END - 1)).toBe(false);
    expect(await s.markOnce(today, 'soft-90', T0)).toBe(true);
    expect(await s.markOnce(tomorrow, 'soft-80', DAY_END + 1)).toBe(true);
    const roll = rolling('hourly|rolling', 100, 3_600_000);
    expect(await s.markOnce(roll, 'soft-80', T0)).toBe(true);
    expect(await s.markOnce(roll, 'soft-80', T0 + 3_599_999)).toBe(false);
    expect(await s.markOnce(roll, 'soft-80', T0 + 3_600_001)).toBe(true);
  });

  it('list(): every key held, with limit, window end and state', async () => {
    const s = open();
    const a = day('daily-total|2026-11-23', 1_000);
    const b = day('per-tenant|acme|2026-11-23', 500);
    const r = rolling('per-minute|rolling', 50, 60_000, 1_000);
    await s.reserve({ reservationId: 'a', amount: 30, keys: [a, b, r], nowMs: T0, expiresAtMs: T0 + 60_000 });
    await s.settle({ reservationId: 'b', actual: 7, keys: [a], nowMs: T0 });
    expect(await s.list(T0 + 500)).toEqual([
      { id: 'daily-total|2026-11-23', limit: 1_000, windowEndMs: DAY_END, state: { spent: 7, reserved: 30 } },
      { id: 'per-minute|rolling', limit: 50, windowEndMs: T0 + 1_000, state: { spent: 0, reserved: 30 }, rolling: { durationMs: 60_000, bucketMs: 1_000 } },
      { id: 'per-tenant|acme|2026-11-23', limit: 500, windowEndMs: DAY_END, state: { spent: 0, reserved: 30 } },
    ]);
  });

  it('rejects bad input before touching anything', async () => {
    const s = open();
    const key = day('d|bad', 100);
    await expect(s.reserve({ reservationId: 'a', amount: -1, keys: [key], nowMs: T0, expiresAtMs: T0 })).rejects.toThrow(/non-negative safe integer/);
    await expect(s.reserve({ reservationId: 'a', amount: 1.5, keys: [key], nowMs: T0, expiresAtMs: T0 })).rejects.toThrow(RangeError);
    await expect(s.reserve({ reservationId: 'a', amount: 2 ** 53, keys: [key], nowMs: T0, expiresAtMs: T0 })).rejects.toThrow(RangeError);
    await expect(s.reserve({ reservationId: 'a', amount: 1, keys: [key, key], nowMs: T0, expiresAtMs: T0 })).rejects.toThrow(/appears twice/);
    await expect(s.settle({ reservationId: '', actual: 1, keys: [key], nowMs: T0 })).rejects.toThrow(TypeError);
    expect(await s.states([key], T0)).toEqual([{ spent: 0, reserved: 0 }]);
  });

  it('large amounts stay exact (up to 2^53 − 1 pUSD)', async () => {
    const s = open();
    const big = 2 ** 52 + 12_345; // about $4 500 in pUSD, not a round double
    const key = day('d|big', Number.MAX_SAFE_INTEGER);
    await s.reserve({ reservationId: 'a', amount: big, keys: [key], nowMs: T0, expiresAtMs: T0 + 1_000 });
    expect(await s.settle({ reservationId: 'a', actual: big - 1, keys: [key], nowMs: T0 })).toEqual([{ spent: big - 1, reserved: 0 }]);
    expect(await s.reserve({ reservationId: 'b', amount: Number.MAX_SAFE_INTEGER - big + 1, keys: [key], nowMs: T0, expiresAtMs: T0 + 1_000 })).toEqual({
      ok: true,
      states: [{ spent: big - 1, reserved: Number.MAX_SAFE_INTEGER - big + 1 }],
    });
    expect((await s.reserve({ reservationId: 'c', amount: 1, keys: [key], nowMs: T0, expiresAtMs: T0 + 1_000 })).ok).toBe(false);
  });

  it('200 concurrent reserves of A against a limit of 20·A: exactly 20 succeed', async () => {
    const s = open();
    const A = 1_234_567;
    const key = day('d|concurrent', 20 * A);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => s.reserve({ reservationId: `c${i}`, amount: A, keys: [key], nowMs: T0, expiresAtMs: T0 + 60_000 })));
    expect(results.filter((r) => r.ok)).toHaveLength(20);
    for (const r of results) expect(r.states[0]!.spent + r.states[0]!.reserved).toBeLessThanOrEqual(20 * A);
    expect(await s.states([key], T0)).toEqual([{ spent: 0, reserved: 20 * A }]);
  });
});
