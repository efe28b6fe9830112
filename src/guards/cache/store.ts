import type { GovernorConfig } from '../../config/schema';

/** Where encoded cache entries live. Implementations throw when the store cannot be reached. */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key` for `ttlMs` milliseconds. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

export type CacheStoreChoice = { kind: 'memory'; warning?: string } | { kind: 'redis'; url: string };

/** `cache_store` resolved against `redis_url`. Pure. */
export function chooseCacheStore(config: Pick<GovernorConfig, 'cache_store' | 'redis_url'>): CacheStoreChoice {
  switch (config.cache_store) {
    case 'memory':
      return { kind: 'memory' };
    case 'redis':
      return config.redis_url
        ? { kind: 'redis', url: config.redis_url }
        : { kind: 'memory', warning: 'llm-governor: cache_store is redis but redis_url is not set; caching in memory (this process only)' };
    default:
      return config.redis_url ? { kind: 'redis', url: config.redis_url } : { kind: 'memory' };
  }
}
