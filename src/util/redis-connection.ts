import type { Redis } from 'ioredis';

/** ioredis, loaded on the first connection: an app without a Redis URL never loads it. */
function redisClass(): typeof import('ioredis').Redis {
  return (require('ioredis') as typeof import('ioredis')).Redis;
}

/**
 * The one Redis connection discipline every store of ours keeps (budgets, rate-limit windows,
 * response cache):
 * - no offline queue and no retries: while Redis is away a command fails at once, and ioredis
 *   reconnects in the background on an unref'd timer;
 * - every ioredis `error` event has a listener;
 * - the socket holds the process alive only while a command is in flight, so the app's exit is
 *   the app's and a pending write still lands before it;
 * - a command made while the very first connection is being set up waits for that attempt (up
 *   to the connect timeout); later outages fail at once;
 * - a command without a reply within its deadline fails, but only after the replies that have
 *   already arrived were read: a busy event loop (a burst of calls starting at once) is not an
 *   outage.
 */

export interface RedisConnectionOptions {
  /** TCP connect timeout, and the longest a command waits for the first connection. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** A command without a reply within this time fails. Default 2000 ms. */
  commandTimeoutMs?: number;
  /** Cap of the exponential reconnect delay (50 ms, 100 ms, …). Default 2000 ms. */
  maxReconnectDelayMs?: number;
  /** A connection of its own rather than the process's shared one (a subscriber: pub/sub takes the socket). */
  dedicated?: string;
}

const REDIS_DEFAULTS = { connectTimeoutMs: 2_000, commandTimeoutMs: 2_000, maxReconnectDelayMs: 2_000 } as const;

/** How much later than our own deadline ioredis gives up on a command (a backstop, so none stays queued). */
const BACKSTOP_MS = 1_000;

export class CommandTimeoutError extends Error {
  constructor(ms: number) {
    super(`Command timed out (no reply from Redis within ${ms} ms)`);
    this.name = 'CommandTimeoutError';
  }
}

/**
 * One ioredis client per URL and settings, shared by every store of the process (budgets,
 * rate-limit windows, cache): one socket, one in-flight count that holds it.
 */
class SharedClient {
  readonly redis: Redis;
  users = 0;
  private inflight = 0;
  /** The first connection attempt is over (ready, or failed): later commands never wait for one. */
  private firstAttemptOver = false;
  private connecting: Promise<void> | undefined;

  constructor(
    url: string,
    readonly commandTimeoutMs: number,
    private readonly connectTimeoutMs: number,
    maxDelay: number,
  ) {
    const Redis = redisClass();
    this.redis = new Redis(url, {
      connectTimeout: connectTimeoutMs,
      commandTimeout: commandTimeoutMs + BACKSTOP_MS,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times - 1, 16), maxDelay),
      lazyConnect: false,
    });
    this.redis.setMaxListeners(0);
    const attemptOver = () => (this.firstAttemptOver = true);
    this.redis.on('error', attemptOver);
    this.redis.on('close', attemptOver);
    this.redis.on('ready', attemptOver);
    // The socket is created just after the 'connecting' event (on a later tick): unref it as soon
    // as it exists, so not even a slow connect keeps an idle process alive.
    this.redis.on('connecting', () => setImmediate(() => this.holdEventLoop(this.inflight > 0)));
    this.redis.on('connect', () => this.holdEventLoop(this.inflight > 0));
    this.redis.on('ready', () => this.holdEventLoop(this.inflight > 0));
    this.redis.on('reconnecting', () => process.nextTick(() => (this.redis as unknown as { reconnectTimeout?: NodeJS.Timeout }).reconnectTimeout?.unref?.()));
  }

  async send<T>(send: () => Promise<T>): Promise<T> {
    if (this.inflight++ === 0) this.holdEventLoop(true);
    try {
      await this.firstConnection();
      return await withDeadline(send(), this.commandTimeoutMs);
    } finally {
      if (--this.inflight === 0) this.holdEventLoop(false);
    }
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await withDeadline(this.redis.quit(), this.commandTimeoutMs).catch(() => undefined);
    this.redis.disconnect(false);
  }

  private holdEventLoop(hold: boolean): void {
    const stream = (this.redis as unknown as { stream?: { ref?: () => void; unref?: () => void } }).stream;
    if (hold) stream?.ref?.();
    else stream?.unref?.();
  }

  private firstConnection(): Promise<void> {
    if (this.firstAttemptOver || !['wait', 'connecting', 'connect'].includes(this.redis.status)) return Promise.resolve();
    this.connecting ??= attemptSettled(this.redis, this.connectTimeoutMs).then(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}

const CLIENTS = new Map<string, SharedClient>();

/** A store's use of the process's Redis client for its URL: its scripts, its listeners, its close. */
export class RedisConnection {
  private readonly core: SharedClient;
  private readonly key: string;
  private readonly listeners: Array<[string, (...args: any[]) => void]> = [];
  private closing = false;

  /** `scripts`: Lua scripts defined as commands (EVALSHA, falling back to EVAL on NOSCRIPT). */
  constructor(url: string, opts: RedisConnectionOptions = {}, scripts: Record<string, string> = {}) {
    const commandTimeoutMs = opts.commandTimeoutMs ?? REDIS_DEFAULTS.commandTimeoutMs;
    const connectTimeoutMs = opts.connectTimeoutMs ?? REDIS_DEFAULTS.connectTimeoutMs;
    const maxDelay = opts.maxReconnectDelayMs ?? REDIS_DEFAULTS.maxReconnectDelayMs;
    this.key = [url, commandTimeoutMs, connectTimeoutMs, maxDelay, opts.dedicated ?? ''].join('\u0000');
    let core = CLIENTS.get(this.key);
    if (!core) CLIENTS.set(this.key, (core = new SharedClient(url, commandTimeoutMs, connectTimeoutMs, maxDelay)));
    core.users++;
    this.core = core;
    const redis = core.redis as unknown as Record<string, unknown>;
    for (const [name, lua] of Object.entries(scripts)) if (typeof redis[name] !== 'function') core.redis.defineCommand(name, { lua });
  }

  get redis(): Redis {
    return this.core.redis;
  }

  get commandTimeoutMs(): number {
    return this.core.commandTimeoutMs;
  }

  get closed(): boolean {
    return this.closing;
  }

  /** Listens to the client's events until this use is closed. */
  on(event: 'error' | 'close' | 'ready' | 'message', listener: (...args: any[]) => void): void {
    this.listeners.push([event, listener]);
    this.core.redis.on(event, listener);
  }

  /** Calls a defined script command with its keys and arguments. */
  script(name: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const command = (this.core.redis as unknown as Record<string, (numKeys: number, ...rest: string[]) => Promise<unknown>>)[name];
    if (typeof command !== 'function') return Promise.reject(new Error(`redis: no script named ${name}`));
    return this.send(() => command.call(this.core.redis, keys.length, ...keys, ...args));
  }

  /** Sends one command: holds the process while in flight, waits for the first connection, keeps the deadline. */
  send<T>(send: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new Error('the Redis connection is closed'));
    return this.core.send(send);
  }

  /** This use ends; the last one QUITs (bounded by the command timeout) and drops the socket. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const [event, listener] of this.listeners) this.core.redis.off(event, listener);
    if (--this.core.users > 0) return;
    if (CLIENTS.get(this.key) === this.core) CLIENTS.delete(this.key);
    await this.core.close();
  }
}

/**
 * Settles as `work` does, or fails with CommandTimeoutError after `ms`. When the timer fires, the
 * replies already waiting on the socket are read first (the failure waits for one turn of the
 * event loop's I/O phase): under load the timer and the reply are often due together.
 */
export function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => setImmediate(() => !settled && ((settled = true), reject(new CommandTimeoutError(ms)))), ms);
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves when the connection attempt in progress ends (ready, error or close), or after `timeoutMs`. */
function attemptSettled(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      redis.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.on('ready', done);
    redis.on('error', done);
    redis.on('close', done);
  });
}
