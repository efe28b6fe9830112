import { Redis } from 'ioredis';
import type { CacheStore } from './store';
import { connectionAttemptSettled, holdEventLoop } from '../../util/redis-socket';

export interface RedisCacheStoreOptions {
  /** Prefix of every key, as a hash tag: `{<namespace>}:cache:<key>`. Default 'llm-governor'. */
  namespace?: string;
  /** TCP connect timeout. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** A command that gets no reply within this time fails. Default 500 ms. */
  commandTimeoutMs?: number;
  /** Cap of the exponential reconnect delay (50 ms, 100 ms, …). Default 2000 ms. */
  maxReconnectDelayMs?: number;
}

/**
 * Cache entries in Redis, shared by every process that uses it: GET, and SET with a PX expiry.
 *
 * The connection follows the budget store's discipline (src/cost/stores/redis.ts): no offline
 * queue and no retries, so a command fails fast when Redis is away while ioredis reconnects in
 * the background (with an unref'd timer); every error event has a listener; and the socket holds
 * the process open only while commands are in flight — the app's exit is the app's.
 */
export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis' as const;
  private readonly prefix: string;
  private readonly redis: Redis;
  private readonly commandTimeoutMs: number;
  private inflight = 0;
  private closing = false;
  /** The first connection attempt is over (ready, or failed): later commands never wait for one. */
  private firstAttemptOver = false;
  private connecting: Promise<void> | undefined;

  constructor(url: string, opts: RedisCacheStoreOptions = {}) {
    const namespace = opts.namespace ?? 'llm-governor';
    if (!namespace) throw new TypeError('RedisCacheStore: namespace must not be empty');
    this.prefix = `{${namespace}}:cache:`;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 500;
    const maxDelay = opts.maxReconnectDelayMs ?? 2_000;
    this.redis = new Redis(url, {
      connectTimeout: opts.connectTimeoutMs ?? 2_000,
      commandTimeout: this.commandTimeoutMs,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 16), maxDelay),
      lazyConnect: false,
    });
    // Every ioredis error event has a listener (no unhandled 'error' events); failures surface
    // through the commands that hit them.
    this.redis.on('error', () => (this.firstAttemptOver = true));
    this.redis.on('close', () => (this.firstAttemptOver = true));
    this.redis.on('ready', () => (this.firstAttemptOver = true));
    // The socket is created just after the 'connecting' event (on a later tick): unref it as soon
    // as it exists, so not even a slow connect keeps an idle process alive.
    this.redis.on('connecting', () => setImmediate(() => this.holdEventLoop(this.inflight > 0)));
    this.redis.on('connect', () => this.holdEventLoop(this.inflight > 0));
    this.redis.on('ready', () => this.holdEventLoop(this.inflight > 0));
    this.redis.on('reconnecting', () => process.nextTick(() => (this.redis as unknown as { reconnectTimeout?: NodeJS.Timeout }).reconnectTimeout?.unref?.()));
  }

  /** The Redis key of a cache key. */
  keyName(key: string): string {
    return this.prefix + key;
  }

  async get(key: string): Promise<string | undefined> {
    const value = await this.call(() => this.redis.get(this.keyName(key)));
    return value ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const px = Math.floor(ttlMs);
    if (!(px > 0)) return;
    await this.call(() => this.redis.set(this.keyName(key), value, 'PX', px));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.redis.status === 'ready') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.redis.quit().catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, this.commandTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    this.redis.disconnect(false);
  }

  // -------------------------------------------------------------------------------------------

  private holdEventLoop(hold: boolean): void {
    holdEventLoop(this.redis, hold);
  }

  /** Sends one command; while it is in flight the socket keeps the process alive (a pending SET lands before exit). */
  private async call<T>(send: () => Promise<T>): Promise<T> {
    if (this.closing) throw new Error('cache store: the Redis store is closed');
    if (this.inflight++ === 0) this.holdEventLoop(true);
    try {
      await this.firstConnection();
      return await send();
    } finally {
      if (--this.inflight === 0) this.holdEventLoop(false);
    }
  }

  /** While the very first connection is being made, a command waits for it up to commandTimeoutMs (later outages fail at once). */
  private firstConnection(): Promise<void> {
    if (this.firstAttemptOver || !['wait', 'connecting', 'connect'].includes(this.redis.status)) return Promise.resolve();
    this.connecting ??= connectionAttemptSettled(this.redis, this.commandTimeoutMs).then(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}
