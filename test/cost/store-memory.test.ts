import { describe, expect, it } from 'vitest';
import { CALENDAR_GRACE_MS, SETTLED_RETENTION_MS } from '../../src/cost/stores/common';
import { MemoryBudgetStore } from '../../src/cost/stores/memory';
import type { BudgetKey } from '../../src/cost/stores/types';
import { currentWindow, parseWindow } from '../../src/cost/windows';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const DAY = 86_400_000;

describe('MemoryBudgetStore: no unbounded growth', () => {
  it('drops a calendar window’s data a grace period after it ends', async () => {
    const store = new MemoryBudgetStore();
    const spec = parseWindow('day', 'Europe/Berlin');
    let maxSize = 0;
    for (let now = T0; now < T0 + 400 * DAY; now += 3 * 3_600_000) {
      const w = currentWindow(spec, now);
      const key: BudgetKey = { id: `daily|${w.id}`, limit: 1_000_000, windowEndMs: w.endMs, mode: 'check' };
      await store.reserve({ reservationId: `r${now}`, amount: 10, keys: [key], nowMs: now, expiresAtMs: now + 60_000 });
      await store.settle({ reservationId: `r${now}`, actual: 10, keys: [key], nowMs: now + 1 });
      maxSize = Math.max(maxSize, store.size);
    }
    expect(maxSize).toBeLessThanOrEqual(3); // today, yesterday (grace), and at most the day before for a moment
    const last = T0 + 400 * DAY;
    expect((await store.list(last + CALENDAR_GRACE_MS + DAY)).length).toBe(0);
    expect(store.size).toBe(0);
  });

  it('drops a rolling window’s data after duration + margin without writes; old buckets go sooner', async () => {
    const store = new MemoryBudgetStore();
    const key: BudgetKey = { id: 'per-minute|rolling', limit: 1_000_000, windowEndMs: 0, rolling: { durationMs: 60_000, bucketMs: 1_000 }, mode: 'check' };
    for (let i = 0; i < 1_000; i++) await store.settle({ reservationId: `s${i}`, actual: 1, keys: [key], nowMs: T0 + i * 1_000 });
    const entry = (store as unknown as { entries: Map<string, { buckets: Map<number, number>; settled: Map<string, number> }> }).entries.get(key.id)!;
    expect(entry.buckets.size).toBeLessThanOrEqual(62);
    expect(entry.settled.size).toBeLessThanOrEqual(SETTLED_RETENTION_MS / 1_000 + 2);
    expect(await store.states([key], T0 + 999_000)).toEqual([{ spent: 61, reserved: 0 }]);
    await store.states([], T0 + 999_000 + SETTLED_RETENTION_MS + 120_000);
    expect(store.size).toBe(0);
  });

  it('remembers a bounded number of settled ids per key: memory stays flat at any call rate', async () => {
    const { MAX_SETTLED_PER_KEY } = await import('../../src/cost/stores/memory');
    const store = new MemoryBudgetStore();
    const key: BudgetKey = { id: 'busy', limit: 1e15, windowEndMs: T0 + DAY, mode: 'check' };
    for (let i = 0; i < 50_000; i++) {
      await store.reserve({ reservationId: `r${i}`, amount: 100, keys: [key], nowMs: T0 + i, expiresAtMs: T0 + i + 60_000 });
      await store.settle({ reservationId: `r${i}`, actual: 10, keys: [key], nowMs: T0 + i });
    }
    const entry = (store as unknown as { entries: Map<string, { settled: Map<string, number> }> }).entries.get(key.id)!;
    expect(entry.settled.size).toBe(MAX_SETTLED_PER_KEY);
    // A repeated settle of a recent call is still a no-op.
    expect(await store.settle({ reservationId: 'r49999', actual: 10, keys: [key], nowMs: T0 + 50_000 })).toEqual([{ spent: 500_000, reserved: 0 }]);
  });

  it('forgets expired reservations', async () => {
    const store = new MemoryBudgetStore();
    const key: BudgetKey = { id: 'k', limit: 100, windowEndMs: T0 + DAY, mode: 'check' };
    for (let i = 0; i < 10_000; i++) {
      const r = await store.reserve({ reservationId: `r${i}`, amount: 100, keys: [key], nowMs: T0 + i * 10, expiresAtMs: T0 + i * 10 + 5 });
      expect(r.ok).toBe(true);
    }
    const entry = (store as unknown as { entries: Map<string, { reservations: Map<string, unknown> }> }).entries.get('k')!;
    expect(entry.reservations.size).toBe(1);
  });

  it('a closed store rejects', async () => {
    const store = new MemoryBudgetStore();
    await store.close();
    await expect(store.states([], T0)).rejects.toThrow(/closed/);
  });
});
