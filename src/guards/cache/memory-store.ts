import type { CacheStore } from './store';

export interface MemoryCacheStoreOptions {
  /** Entries kept; the least recently used go first. */
  maxEntries: number;
  /** Total size of the values kept (UTF-16 code units, about their size in memory). Default 64 Mi. */
  maxSize?: number;
  now?: () => number;
}

interface Slot {
  value: string;
  expiresAt: number;
}

/**
 * An in-process LRU with a TTL per entry. A Map keeps insertion order, so the first key is the
 * least recently used one: a hit moves its entry to the end. Expired entries are misses and are
 * removed when seen. Besides the entry count, the total size is bounded, so a cache of large
 * bodies cannot grow without limit (`maxEntries` × a 2 MiB body would be gigabytes).
 */
export class MemoryCacheStore implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly slots = new Map<string, Slot>();
  private readonly maxEntries: number;
  private readonly maxSize: number;
  private readonly now: () => number;
  private size = 0;

  constructor(opts: MemoryCacheStoreOptions) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new RangeError('MemoryCacheStore: maxEntries must be a whole number above 0');
    this.maxEntries = opts.maxEntries;
    this.maxSize = opts.maxSize ?? 64 * 1024 * 1024;
    this.now = opts.now ?? Date.now;
  }

  /** Entries held (expired ones included until they are seen). */
  get entries(): number {
    return this.slots.size;
  }

  /** Keys from least to most recently used. */
  keys(): string[] {
    return [...this.slots.keys()];
  }

  async get(key: string): Promise<string | undefined> {
    const slot = this.slots.get(key);
    if (!slot) return undefined;
    this.slots.delete(key);
    if (slot.expiresAt <= this.now()) {
      this.size -= slot.value.length;
      return undefined;
    }
    this.slots.set(key, slot);
    return slot.value;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.remove(key);
    if (!(ttlMs > 0) || value.length > this.maxSize) return;
    this.slots.set(key, { value, expiresAt: this.now() + ttlMs });
    this.size += value.length;
    for (const [oldest, slot] of this.slots) {
      if (this.slots.size <= this.maxEntries && this.size <= this.maxSize) break;
      this.slots.delete(oldest);
      this.size -= slot.value.length;
    }
  }

  async close(): Promise<void> {
    this.slots.clear();
    this.size = 0;
  }

  private remove(key: string): void {
    const slot = this.slots.get(key);
    if (!slot) return;
    this.slots.delete(key);
    this.size -= slot.value.length;
  }
}
