import type { BudgetKey } from './types';

/** Calendar-window data is kept this long after the window resets (so the CLI can still show yesterday). */
export const CALENDAR_GRACE_MS = 24 * 3_600_000;
/** A settled reservationId is remembered this long, so a repeated settle is a no-op. */
export const SETTLED_RETENTION_MS = 15 * 60_000;
/** Rolling-window data is kept this long beyond the duration after its last write (and expiring reservations this long beyond their expiry). */
export function rollingMarginMs(bucketMs: number): number {
  return Math.max(bucketMs, 60_000);
}

/** Where `list()` reports a rolling key's window end: the end of the current bucket. */
export function bucketEndMs(nowMs: number, bucketMs: number): number {
  return Math.floor(nowMs / bucketMs) * bucketMs + bucketMs;
}

/** A bucket counts while it overlaps [now − duration, now]. */
export function bucketCounts(bucketStartMs: number, bucketMs: number, durationMs: number, nowMs: number): boolean {
  return bucketStartMs + bucketMs > nowMs - durationMs;
}

export function assertAmount(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`budget store: ${name} must be a non-negative safe integer (pUSD), got ${String(value)}`);
  }
}

export function assertTime(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new RangeError(`budget store: ${name} must be an integer number of milliseconds, got ${String(value)}`);
  }
}

export function assertId(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`budget store: ${name} must be a non-empty string`);
  }
}

export function assertKeys(keys: readonly BudgetKey[]): void {
  if (!Array.isArray(keys)) throw new TypeError('budget store: keys must be an array');
  const seen = new Set<string>();
  for (const key of keys) {
    assertId('key.id', key?.id);
    if (seen.has(key.id)) throw new TypeError(`budget store: key ${JSON.stringify(key.id)} appears twice in one call`);
    seen.add(key.id);
    assertAmount(`limit of ${key.id}`, key.limit);
    if (key.mode !== 'check' && key.mode !== 'force') {
      throw new TypeError(`budget store: mode of ${key.id} must be 'check' or 'force'`);
    }
    if (key.rolling) {
      const { durationMs, bucketMs } = key.rolling;
      if (!Number.isSafeInteger(durationMs) || durationMs <= 0 || !Number.isSafeInteger(bucketMs) || bucketMs <= 0) {
        throw new RangeError(`budget store: rolling window of ${key.id} needs positive integer durationMs and bucketMs`);
      }
    } else {
      assertTime(`windowEndMs of ${key.id}`, key.windowEndMs);
    }
  }
}
