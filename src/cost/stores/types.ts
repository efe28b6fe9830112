import type { Pico } from '../money';

/**
 * One budget, in one window instance, as a store sees it. Amounts are integer picodollars; a
 * store keeps every figure below Number.MAX_SAFE_INTEGER (2^53 − 1 pUSD, about $9 007), and so
 * must the sum spent + reserved + amount.
 */
export interface BudgetKey {
  /** Unique per budget, per value and window instance, e.g. 'daily-total|2026-11-23' or 'per-tenant|acme|2026-11-23' (the store prefixes it with its namespace). */
  id: string;
  limit: Pico;
  /** Calendar: reset time (the key's data expires some time after it). Rolling: ignored. */
  windowEndMs: number;
  /** Spend is kept in time buckets; 'spent' sums the buckets that overlap [now − duration, now]. */
  rolling?: { durationMs: number; bucketMs: number };
  /** check: must fit (spent + reserved + amount <= limit); force: always reserve (alert-only budgets). */
  mode: 'check' | 'force';
}

export interface BudgetState {
  spent: Pico;
  reserved: Pico;
}

export type ReserveResult = { ok: true; states: BudgetState[] } | { ok: false /** index of the first key that did not fit */; failed: number; states: BudgetState[] };

export interface BudgetListEntry {
  id: string;
  limit: Pico;
  /** Calendar: the window's reset time. Rolling: the end of the current bucket. */
  windowEndMs: number;
  state: BudgetState;
  /** Present for rolling-window keys. */
  rolling?: { durationMs: number; bucketMs: number };
}

export interface BudgetStore {
  readonly kind: 'memory' | 'redis';
  /**
   * All-or-nothing across keys, atomic: either the reservation is held on every key or on none.
   * Expired reservations (expiresAtMs < nowMs) are purged first. ONE round trip for Redis.
   * Reserving again under a held reservationId replaces that reservation (amount and expiry).
   * On failure, `states` are the states as they were (nothing was reserved).
   */
  reserve(req: { reservationId: string; amount: Pico; keys: BudgetKey[]; nowMs: number; expiresAtMs: number }): Promise<ReserveResult>;
  /**
   * Removes the reservation (if still held) and adds `actual` to spent on every key — even when the
   * reservation already expired (the money was spent). Idempotent per reservationId: a second
   * settle is a no-op (remembered for `SETTLED_RETENTION_MS` after the first). ONE round trip
   * for Redis. Returns the states after.
   */
  settle(req: { reservationId: string; actual: Pico; keys: BudgetKey[]; nowMs: number }): Promise<BudgetState[]>;
  /**
   * Extends a reservation still held (not settled, not expired) to `expiresAtMs` on every key: the
   * lease of a call that is still running. A reservation no longer held is left alone (never
   * brought back). ONE round trip for Redis.
   */
  renew(req: { reservationId: string; keys: BudgetKey[]; nowMs: number; expiresAtMs: number }): Promise<void>;
  /** Current states (expired reservations purged). */
  states(keys: BudgetKey[], nowMs: number): Promise<BudgetState[]>;
  /**
   * True the first time it is called for (keyId, mark) within the key's window (calendar: until
   * windowEndMs; rolling: for one duration); for soft-threshold events "once per window", shared
   * across processes on Redis.
   */
  markOnce(key: BudgetKey, mark: string, nowMs: number): Promise<boolean>;
  /** Every budget key the store holds right now (for the `llm-governor budgets` CLI). */
  list(nowMs: number): Promise<BudgetListEntry[]>;
  close(): Promise<void>;
}

/**
 * The shared store (Redis) could not be reached, or did not answer within its command timeout.
 * The operation may or may not have been applied: a reservation that did get through expires at
 * its expiresAtMs (or is released by a settle with actual 0).
 */
export class BudgetStoreUnavailableError extends Error {
  override readonly name = 'BudgetStoreUnavailableError';
  readonly code = 'BUDGET_STORE_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
