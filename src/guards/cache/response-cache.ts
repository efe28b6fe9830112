import { diag, type Meter } from '@opentelemetry/api';
import type { GovernorConfig } from '../../config/schema';
import { decodeEntry, encodeEntry, freshness, storableHeaders, unstorableReason, type CachedResponse } from './entry';
import { MemoryCacheStore } from './memory-store';
import { CacheMetrics } from './metrics';
import { RedisCacheStore, type RedisCacheStoreOptions } from './redis-store';
import { chooseCacheStore, type CacheStore } from './store';

export interface ResponseCacheOptions {
  config: GovernorConfig;
  meter: Meter;
  now?: () => number;
  /** Tests: connection timings of the Redis store. */
  redis?: RedisCacheStoreOptions;
}

/**
 * The response cache: entries under keys from `cacheKey`, in memory or in Redis (`cache_store`),
 * kept `cache_ttl_seconds` (and `cache_serve_stale_seconds` past it, for `getStale`). It never throws into the call: a store that fails is a miss (get) or
 * a no-op (set), and the outage is logged once (again after the store came back and failed anew).
 */
export class ResponseCache {
  private readonly store: CacheStore;
  private readonly metrics: CacheMetrics;
  private readonly now: () => number;
  private ttlMs: number;
  private staleMs: number;
  private failing = false;

  constructor(opts: ResponseCacheOptions) {
    this.now = opts.now ?? Date.now;
    this.ttlMs = opts.config.cache_ttl_seconds * 1000;
    this.staleMs = (opts.config.cache_serve_stale_seconds ?? 0) * 1000;
    this.metrics = new CacheMetrics(opts.meter);
    const choice = chooseCacheStore(opts.config);
    if (choice.kind === 'redis') {
      this.store = new RedisCacheStore(choice.url, { commandTimeoutMs: opts.config.redis_command_timeout_ms, ...opts.redis });
    } else {
      if (choice.warning) diag.warn(choice.warning);
      this.store = new MemoryCacheStore({ maxEntries: opts.config.cache_max_entries, now: this.now });
    }
  }

  /** A reload: the TTL and stale window of entries stored and looked up from now on (the store stays). */
  reconfigure(config: Pick<GovernorConfig, 'cache_ttl_seconds' | 'cache_serve_stale_seconds'>): void {
    this.ttlMs = config.cache_ttl_seconds * 1000;
    this.staleMs = (config.cache_serve_stale_seconds ?? 0) * 1000;
  }

  /** `memory` or `redis`. */
  get storeKind(): 'memory' | 'redis' {
    return this.store.kind;
  }

  /** The entry under `key` within its TTL, or undefined (a miss, an unreadable entry, or a store that failed). Never throws. */
  async get(key: string): Promise<CachedResponse | undefined> {
    const entry = await this.read(key);
    // Without a stale window the store's own expiry is the TTL; with one, the entry outlives it.
    if (!entry || this.staleMs === 0) return entry;
    return freshness(entry.storedAt, this.now(), this.ttlMs, this.staleMs) === 'fresh' ? entry : undefined;
  }

  /** The entry under `key` within its TTL or the stale window after it (none when the window is 0). Never throws. */
  async getStale(key: string): Promise<CachedResponse | undefined> {
    if (!(this.staleMs > 0)) return undefined;
    const entry = await this.read(key);
    return entry && freshness(entry.storedAt, this.now(), this.ttlMs, this.staleMs) !== 'expired' ? entry : undefined;
  }

  private async read(key: string): Promise<CachedResponse | undefined> {
    let text: string | undefined;
    try {
      text = await this.store.get(key);
    } catch (error) {
      this.storeFailed(error);
      return undefined;
    }
    this.storeWorked();
    return text === undefined ? undefined : decodeEntry(text);
  }

  /** Stores a response for `cache_ttl_seconds` plus the stale window; skips bodies over 2 MiB and non-2xx statuses. Never throws. */
  async set(key: string, value: Omit<CachedResponse, 'storedAt'>): Promise<void> {
    try {
      if (unstorableReason(value) !== undefined) return;
      const text = encodeEntry({ status: value.status, headers: storableHeaders(value.headers), body: value.body, storedAt: this.now() });
      await this.store.set(key, text, this.ttlMs + this.staleMs);
    } catch (error) {
      this.storeFailed(error);
      return;
    }
    this.storeWorked();
  }

  /** Counts `llm_governor.cache.requests` {result, gen_ai.provider.name, gen_ai.request.model, gen_ai.operation.name}. */
  countLookup(result: 'hit' | 'miss' | 'stale', attrs: Record<string, string>): void {
    this.metrics.lookup(result, attrs);
  }

  /** Adds the cost a hit avoided to `llm_governor.cache.saved` (USD). */
  countSaved(usd: number, attrs: Record<string, string>): void {
    this.metrics.saved(usd, attrs);
  }

  async close(): Promise<void> {
    try {
      await this.store.close();
    } catch {
      // Closing is best effort.
    }
  }

  private storeFailed(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    const message = error instanceof Error ? error.message : String(error);
    diag.warn(`llm-governor: response cache store (${this.store.kind}) failed (${message}); answering from the provider until it is back`);
  }

  private storeWorked(): void {
    if (!this.failing) return;
    this.failing = false;
    diag.info(`llm-governor: response cache store (${this.store.kind}) is back`);
  }
}
