import type { Limits } from './limits';

/** The sliding window: an entry counts for 60 s after its send time. */
export const WINDOW_MS = 60_000;

/** One admitted request: when it was sent and the tokens it weighs. */
export interface WindowEntry {
  at: number;
  tokens: number;
}

export interface CapacityCheck {
  /** 0: admit now; else ms until the entries that block it have left the window. */
  waitMs: number;
  /** The limit that decides the wait (the longer one when both block). */
  limit?: 'rpm' | 'tpm';
}

/**
 * When may a request of `tokens` be admitted? `entries` (from index `from` on) are the window's
 * entries in send order, all still inside it (`at > now - windowMs`), `sum` their tokens.
 *
 * An entry leaves the window at `at + windowMs`. Admitting only while fewer than `rpm` entries
 * and at most `tpm - tokens` tokens are inside (now - windowMs, now] keeps every interval of
 * `windowMs` within the limits. A request larger than `tpm` alone is treated as `tpm` tokens: it
 * waits until the window holds no tokens, then goes through (it never deadlocks).
 */
export function capacityWait(entries: readonly WindowEntry[], from: number, sum: number, tokens: number, limits: Limits, now: number, windowMs = WINDOW_MS): CapacityCheck {
  const count = entries.length - from;
  let rpmWait = 0;
  if (limits.rpm !== undefined && count >= limits.rpm) {
    rpmWait = entries[from + count - limits.rpm]!.at + windowMs - now;
  }
  let tpmWait = 0;
  if (limits.tpm !== undefined && count > 0) {
    const need = Math.min(Math.max(tokens, 0), limits.tpm);
    if (sum + need > limits.tpm) {
      let freed = 0;
      let i = from;
      for (; i < entries.length; i++) {
        freed += entries[i]!.tokens;
        if (sum - freed + need <= limits.tpm) break;
      }
      tpmWait = entries[Math.min(i, entries.length - 1)]!.at + windowMs - now;
    }
  }
  if (rpmWait <= 0 && tpmWait <= 0) return { waitMs: 0 };
  return rpmWait >= tpmWait ? { waitMs: rpmWait, limit: 'rpm' } : { waitMs: tpmWait, limit: 'tpm' };
}

/** Index of the first entry still inside the window at `now` (entries are in send order). */
function firstLive(entries: readonly WindowEntry[], from: number, now: number, windowMs = WINDOW_MS): number {
  let i = from;
  while (i < entries.length && entries[i]!.at <= now - windowMs) i++;
  return i;
}

/** The window of one target in this process: a log of send times with token weights. */
export class SlidingWindow {
  private entries: WindowEntry[] = [];
  private start = 0;
  private sum = 0;

  constructor(private readonly windowMs = WINDOW_MS) {}

  /** Entries inside the window (after the last prune). */
  get size(): number {
    return this.entries.length - this.start;
  }

  /** Tokens inside the window (after the last prune). */
  get tokens(): number {
    return this.sum;
  }

  /** Drops the entries that left the window; true when it is empty. */
  prune(now: number): boolean {
    const live = firstLive(this.entries, this.start, now, this.windowMs);
    for (let i = this.start; i < live; i++) this.sum -= this.entries[i]!.tokens;
    this.start = live;
    if (this.start === this.entries.length) {
      this.entries = [];
      this.start = 0;
      this.sum = 0;
    } else if (this.start > 64 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
    return this.entries.length === 0;
  }

  check(now: number, tokens: number, limits: Limits): CapacityCheck {
    this.prune(now);
    return capacityWait(this.entries, this.start, this.sum, tokens, limits, now, this.windowMs);
  }

  /** Records a send; returns the entry (its weight can be corrected with `reweigh`). */
  add(now: number, tokens: number): WindowEntry {
    const last = this.entries[this.entries.length - 1];
    // Send order is kept even if the clock steps back (the entry then counts a little longer).
    const entry = { at: last && last.at > now ? last.at : now, tokens: Math.max(0, tokens) };
    this.entries.push(entry);
    this.sum += entry.tokens;
    return entry;
  }

  /** Takes back a send that never went out (refused by a later guard), if it is still inside the window. */
  remove(entry: WindowEntry, now: number): void {
    this.prune(now);
    const i = this.entries.indexOf(entry, this.start);
    if (i < 0) return;
    this.entries.splice(i, 1);
    this.sum -= entry.tokens;
  }

  /** Corrects an entry's weight, if it is still inside the window. */
  reweigh(entry: WindowEntry, tokens: number, now: number): void {
    this.prune(now);
    if (entry.at <= now - this.windowMs || this.size === 0) return;
    const next = Math.max(0, tokens);
    this.sum += next - entry.tokens;
    entry.tokens = next;
  }
}
