import type { CacheStore } from './store';
import { RedisConnection, type RedisConnectionOptions } from '../../util/redis-connection';

export interface RedisCacheStoreOptions extends RedisConnectionOptions {
  /** Prefix of every key, as a hash tag: `{<namespace>}:cache:<key>`. Default 'llm-governor'. */
  namespace?: string;
}

/**
 * Cache entries in Redis, shared by every process that uses it: GET, and SET with a PX expiry.
 *
 * The connection keeps the discipline of every Redis store of ours (src/util/redis-connection.ts):
 * a command fails fast when Redis is away, and the socket holds the process open only while
 * commands are in flight — the app's exit is the app's.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readonly prefix: string;
  private readonly conn: RedisConnection;

  constructor(url: string, opts: RedisCacheStoreOptions = {}) {
    const namespace = opts.namespace ?? 'llm-governor';
    if (!namespace) throw new TypeError('RedisCacheStore: namespace must not be empty');
    this.prefix = `{${namespace}}:cache:`;
    this.conn = new RedisConnection(url, opts);
    // Failures surface through the commands that hit them.
  }

  /** The Redis key of a cache key. */
  keyName(key: string): string {
    return this.prefix + key;
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.call(() => this.conn.redis.get(this.keyName(key)));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const px = Math.floor(ttlMs);
    if (!(px > 0)) return;
    await this.call(() => this.conn.redis.set(this.keyName(key), value, 'PX', px));
  }

  close(): Promise<void> {
    return this.conn.close();
  }

  private call<T>(send: () => Promise<T>): Promise<T> {
    if (this.conn.closed) return Promise.reject(new Error('cache store: the Redis store is closed'));
    return this.conn.send(send);
  }
}
