import type { Pico } from '../money';
import { CALENDAR_GRACE_MS, SETTLED_RETENTION_MS, assertAmount, assertId, assertKeys, assertTime, bucketCounts, bucketEndMs, rollingMarginMs } from './common';
import type { BudgetKey, BudgetListEntry, BudgetState, BudgetStore, ReserveResult } from './types';

interface Entry {
  limit: Pico;
  windowEndMs: number;
  rolling?: { durationMs: number; bucketMs: number };
  /** Calendar windows. */
  spent: Pico;
  /** Rolling windows: bucket start → spend. */
  buckets: Map<number, Pico>;
  reserved: Pico;
  reservations: Map<string, { amount: Pico; expiresAtMs: number }>;
  /** Settled reservation ids → when to forget them. */
  settled: Map<string, number>;
  /** Earliest expiry among reservations and settled ids (purging is skipped before it). */
  nextExpiryMs: number;
  /** mark → valid until. */
  marks: Map<string, number>;
  /** The whole entry is dropped at this time (the Redis store's key expiry). */
  dropAtMs: number;
}

/**
 * A single-process budget store with the same semantics as the Redis one. Every operation runs
 * synchronously inside (so operations are atomic with respect to each other) and returns a
 * resolved promise. Data for ended windows is dropped (see `CALENDAR_GRACE_MS`, `rollingMarginMs`).
 */
/**
 * Settled ids remembered per key, at most (the newest; each for SETTLED_RETENTION_MS). Only this
 * process's engine settles here, once per call, so a repeat can only follow closely.
 */
export const MAX_SETTLED_PER_KEY = 4096;

export class MemoryBudgetStore implements BudgetStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private lastSweepMs = NaN;
  private closed = false;

  /** Number of budget keys held (ended windows are dropped within a second of store time). */
  get size(): number {
    return this.entries.size;
  }

  reserve(req: { reservationId: string; amount: Pico; keys: BudgetKey[]; nowMs: number; expiresAtMs: number }): Promise<ReserveResult> {
    return this.run(() => {
      assertId('reservationId', req.reservationId);
      assertAmount('amount', req.amount);
      assertTime('nowMs', req.nowMs);
      assertTime('expiresAtMs', req.expiresAtMs);
      assertKeys(req.keys);
      const { reservationId, amount, nowMs, expiresAtMs } = req;
      this.sweep(nowMs);
      const states: BudgetState[] = [];
      let failed = -1;
      req.keys.forEach((key, i) => {
        const entry = this.peek(key.id, nowMs);
        const state = entry ? this.stateOf(entry, nowMs) : { spent: 0, reserved: 0 };
        const previous = entry?.reservations.get(reservationId)?.amount ?? 0;
        states.push(state);
        if (failed < 0 && key.mode === 'check' && state.spent + state.reserved - previous + amount > key.limit) failed = i;
      });
      if (failed >= 0) return { ok: false, failed, states };
      req.keys.forEach((key, i) => {
        const entry = this.entry(key, nowMs);
        const previous = entry.reservations.get(reservationId)?.amount ?? 0;
        entry.settled.delete(reservationId);
        entry.reservations.set(reservationId, { amount, expiresAtMs });
        entry.nextExpiryMs = Math.min(entry.nextExpiryMs, expiresAtMs);
        entry.reserved += amount - previous;
        if (key.rolling) this.extend(entry, expiresAtMs + rollingMarginMs(key.rolling.bucketMs));
        states[i] = { spent: states[i]!.spent, reserved: entry.reserved };
      });
      return { ok: true, states };
    });
  }

  settle(req: { reservationId: string; actual: Pico; keys: BudgetKey[]; nowMs: number }): Promise<BudgetState[]> {
    return this.run(() => {
      assertId('reservationId', req.reservationId);
      assertAmount('actual', req.actual);
      assertTime('nowMs', req.nowMs);
      assertKeys(req.keys);
      const { reservationId, actual, nowMs } = req;
      this.sweep(nowMs);
      const already = req.keys.some((key) => this.peek(key.id, nowMs)?.settled.has(reservationId));
      if (already) return req.keys.map((key) => this.stateOrZero(key.id, nowMs));
      return req.keys.map((key) => {
        const entry = this.entry(key, nowMs);
        const held = entry.reservations.get(reservationId);
        if (held) {
          entry.reservations.delete(reservationId);
          entry.reserved -= held.amount;
        }
        const forgetAt = nowMs + SETTLED_RETENTION_MS;
        entry.settled.set(reservationId, forgetAt);
        // Bounded by count too: at a thousand calls a second, 15 minutes of ids would be ~500 MB.
        if (entry.settled.size > MAX_SETTLED_PER_KEY) entry.settled.delete(entry.settled.keys().next().value as string);
        entry.nextExpiryMs = Math.min(entry.nextExpiryMs, forgetAt);
        if (key.rolling) {
          const bucket = Math.floor(nowMs / key.rolling.bucketMs) * key.rolling.bucketMs;
          entry.buckets.set(bucket, (entry.buckets.get(bucket) ?? 0) + actual);
          this.extend(entry, forgetAt + rollingMarginMs(key.rolling.bucketMs));
        } else {
          entry.spent += actual;
        }
        return this.stateOf(entry, nowMs);
      });
    });
  }

  renew(req: { reservationId: string; keys: BudgetKey[]; nowMs: number; expiresAtMs: number }): Promise<void> {
    return this.run(() => {
      assertId('reservationId', req.reservationId);
      assertTime('expiresAtMs', req.expiresAtMs);
      assertKeys(req.keys);
      for (const key of req.keys) {
        const entry = this.peek(key.id, req.nowMs);
        const held = entry?.reservations.get(req.reservationId);
        if (!entry || !held || held.expiresAtMs < req.nowMs) continue;
        held.expiresAtMs = Math.max(held.expiresAtMs, req.expiresAtMs);
        if (key.rolling) this.extend(entry, held.expiresAtMs + rollingMarginMs(key.rolling.bucketMs));
      }
    });
  }

  states(keys: BudgetKey[], nowMs: number): Promise<BudgetState[]> {
    return this.run(() => {
      assertTime('nowMs', nowMs);
      assertKeys(keys);
      this.sweep(nowMs);
      return keys.map((key) => this.stateOrZero(key.id, nowMs));
    });
  }

  markOnce(key: BudgetKey, mark: string, nowMs: number): Promise<boolean> {
    return this.run(() => {
      assertTime('nowMs', nowMs);
      assertKeys([key]);
      assertId('mark', mark);
      this.sweep(nowMs);
      const entry = this.entry(key, nowMs);
      const until = entry.marks.get(mark);
      if (until !== undefined && until > nowMs) return false;
      entry.marks.set(mark, key.rolling ? nowMs + key.rolling.durationMs : key.windowEndMs);
      return true;
    });
  }

  list(nowMs: number): Promise<BudgetListEntry[]> {
    return this.run(() => {
      assertTime('nowMs', nowMs);
      this.sweep(nowMs);
      const out: BudgetListEntry[] = [];
      for (const [id, entry] of this.entries) {
        if (nowMs >= entry.dropAtMs) continue;
        out.push({
          id,
          limit: entry.limit,
          windowEndMs: entry.rolling ? bucketEndMs(nowMs, entry.rolling.bucketMs) : entry.windowEndMs,
          state: this.stateOf(entry, nowMs),
          ...(entry.rolling ? { rolling: { ...entry.rolling } } : {}),
        });
      }
      return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    });
  }

  close(): Promise<void> {
    this.closed = true;
    this.entries.clear();
    return Promise.resolve();
  }

  // -------------------------------------------------------------------------------------------

  private run<T>(fn: () => T): Promise<T> {
    try {
      if (this.closed) throw new Error('budget store: the memory store is closed');
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The entry for a key if it exists and has not expired (an expired one is dropped). */
  private peek(id: string, nowMs: number): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry && nowMs >= entry.dropAtMs) {
      this.entries.delete(id);
      return undefined;
    }
    return entry;
  }

  /** The entry for a key, created if missing; its limit, window and expiry are refreshed (a write). */
  private entry(key: BudgetKey, nowMs: number): Entry {
    let entry = this.peek(key.id, nowMs);
    if (!entry) {
      entry = {
        limit: key.limit,
        windowEndMs: key.windowEndMs,
        spent: 0,
        buckets: new Map(),
        reserved: 0,
        reservations: new Map(),
        settled: new Map(),
        nextExpiryMs: Infinity,
        marks: new Map(),
        dropAtMs: -Infinity,
      };
      this.entries.set(key.id, entry);
    }
    entry.limit = key.limit;
    if (key.rolling) {
      entry.rolling = { durationMs: key.rolling.durationMs, bucketMs: key.rolling.bucketMs };
      entry.windowEndMs = bucketEndMs(nowMs, key.rolling.bucketMs);
      this.extend(entry, nowMs + key.rolling.durationMs + rollingMarginMs(key.rolling.bucketMs));
    } else {
      delete entry.rolling;
      entry.windowEndMs = key.windowEndMs;
      entry.dropAtMs = key.windowEndMs + CALENDAR_GRACE_MS;
    }
    return entry;
  }

  private extend(entry: Entry, dropAtMs: number): void {
    if (dropAtMs > entry.dropAtMs) entry.dropAtMs = dropAtMs;
  }

  private stateOrZero(id: string, nowMs: number): BudgetState {
    const entry = this.peek(id, nowMs);
    return entry ? this.stateOf(entry, nowMs) : { spent: 0, reserved: 0 };
  }

  /** Purges expired reservations, settled ids and buckets, then reads the state. */
  private stateOf(entry: Entry, nowMs: number): BudgetState {
    if (nowMs > entry.nextExpiryMs) {
      let next = Infinity;
      for (const [id, r] of entry.reservations) {
        if (r.expiresAtMs < nowMs) {
          entry.reservations.delete(id);
          entry.reserved -= r.amount;
        } else if (r.expiresAtMs < next) next = r.expiresAtMs;
      }
      for (const [id, forgetAt] of entry.settled) {
        if (forgetAt < nowMs) entry.settled.delete(id);
        else if (forgetAt < next) next = forgetAt;
      }
      entry.nextExpiryMs = next;
    }
    let spent = entry.spent;
    if (entry.rolling) {
      const { durationMs, bucketMs } = entry.rolling;
      spent = 0;
      for (const [start, amount] of entry.buckets) {
        if (bucketCounts(start, bucketMs, durationMs, nowMs)) spent += amount;
        else entry.buckets.delete(start);
      }
    }
    return { spent, reserved: entry.reserved };
  }

  /** Drops every ended entry, at most once per second of store time. */
  private sweep(nowMs: number): void {
    if (nowMs >= this.lastSweepMs && nowMs < this.lastSweepMs + 1_000) return;
    this.lastSweepMs = nowMs;
    for (const [id, entry] of this.entries) {
      if (nowMs >= entry.dropAtMs) this.entries.delete(id);
    }
  }
}
