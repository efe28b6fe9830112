import { Redis } from 'ioredis';
import type { Limits } from './limits';
import { ADMIT_LUA, REWEIGH_LUA } from './lua';
import { WINDOW_MS } from './window';
import { connectionAttemptSettled, holdEventLoop } from '../../util/redis-socket';

export interface RedisWindowsOptions {
  /** Hash tag of every key: '{<namespace>}:rl:<provider>|<model>'. Default 'llm-governor'. */
  namespace?: string;
  /** TCP connect timeout. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** A command without a reply within this time fails (and the limiter falls back). Default 500 ms. */
  commandTimeoutMs?: number;
  /** Cap of the exponential reconnect delay. Default 2000 ms. */
  maxReconnectDelayMs?: number;
  /** After a failed command while the socket still looks connected, Redis is skipped this long. Default 1000 ms. */
  retryAfterFailureMs?: number;
  /** The window (tests may shorten it). Default 60 s. */
  windowMs?: number;
}

export type AdmitReply = { admitted: true } | { admitted: false; waitMs: number; limit: 'rpm' | 'tpm' };

type AvailabilityListener = (available: boolean, error?: Error) => void;
type ScriptCommand = (numKeys: number, ...args: string[]) => Promise<unknown>;

/** Kept past the window so a key never expires while one of its entries still counts. */
const EXPIRY_MARGIN_MS = 1_000;

/**
 * The rate-limit windows shared by every process that uses the same Redis: one Lua script call per
 * admission attempt (see `lua.ts`). Fails fast while Redis is unreachable (no offline queue,
 * bounded command time) and reconnects in the background; `usable` says whether to ask it now.
 * Like the budget store, its socket keeps the process alive only while a command is in flight.
 */
export class RedisWindows {
  private readonly prefix: string;
  private readonly redis: Redis;
  private readonly commandTimeoutMs: number;
  private readonly retryAfterFailureMs: number;
  private readonly windowMs: number;
  private available = true;
  private retryAt = 0;
  private closing = false;
  private connecting: Promise<void> | undefined;
  private inflight = 0;

  constructor(
    url: string,
    opts: RedisWindowsOptions = {},
    private readonly onAvailability: AvailabilityListener = () => undefined,
  ) {
    const namespace = opts.namespace ?? 'llm-governor';
    this.prefix = `{${namespace}}:rl:`;
    this.commandTimeoutMs = opts.commandTimeoutMs ?? 500;
    this.retryAfterFailureMs = opts.retryAfterFailureMs ?? 1_000;
    this.windowMs = opts.windowMs ?? WINDOW_MS;
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
    this.redis.defineCommand('lgRateAdmit', { lua: ADMIT_LUA });
    this.redis.defineCommand('lgRateReweigh', { lua: REWEIGH_LUA });
    // Every ioredis error event has a listener (no unhandled 'error' events).
    this.redis.on('error', (error: Error) => this.setAvailable(false, error));
    this.redis.on('close', () => this.setAvailable(false, new Error('the connection to Redis closed')));
    this.redis.on('ready', () => this.setAvailable(true));
    // The app's exit is the app's: the connection never keeps the process alive on its own.
    this.redis.on('connect', () => this.holdEventLoop(this.inflight > 0));
    this.redis.on('ready', () => this.holdEventLoop(this.inflight > 0));
    this.redis.on('reconnecting', () => process.nextTick(() => (this.redis as unknown as { reconnectTimeout?: NodeJS.Timeout }).reconnectTimeout?.unref?.()));
  }

  /** Whether an admission should ask Redis now (else the caller uses its in-memory window). */
  get usable(): boolean {
    if (this.closing) return false;
    if (this.available) return true;
    return this.redis.status === 'ready' && Date.now() >= this.retryAt;
  }

  /** One atomic attempt: admits (records `member`, worth `tokens`) or says how long until capacity. */
  async admit(target: string, member: string, tokens: number, limits: Limits): Promise<AdmitReply> {
    const reply = (await this.run('lgRateAdmit', target, [
      String(this.windowMs),
      String(limits.rpm ?? 0),
      String(limits.tpm ?? 0),
      String(tokens),
      member,
      String(this.windowMs + EXPIRY_MARGIN_MS),
    ])) as unknown[];
    if (Number(reply[0]) === 1) return { admitted: true };
    return { admitted: false, waitMs: Math.max(1, Number(reply[1])), limit: Number(reply[2]) === 2 ? 'tpm' : 'rpm' };
  }

  /** Corrects (newMember) or removes ('') an admitted entry, if it is still in the window. */
  async reweigh(target: string, member: string, newMember: string, delta: number): Promise<void> {
    await this.run('lgRateReweigh', target, [member, newMember, String(delta), String(this.windowMs + EXPIRY_MARGIN_MS)]);
  }

  /** The member that records one admitted request: a unique id and its weight. */
  static member(id: string, tokens: number): string {
    return `${id}:${tokens}`;
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

  private keys(target: string): string[] {
    return [`${this.prefix}${target}`, `${this.prefix}${target}:sum`];
  }

  private holdEventLoop(hold: boolean): void {
    holdEventLoop(this.redis, hold);
  }

  private async run(script: 'lgRateAdmit' | 'lgRateReweigh', target: string, args: string[]): Promise<unknown> {
    if (this.closing) throw new Error('rate limiter: the Redis connection is closed');
    const command = (this.redis as unknown as Record<string, ScriptCommand>)[script]!;
    const keys = this.keys(target);
    if (this.inflight++ === 0) this.holdEventLoop(true);
    try {
      await this.firstConnection();
      const result = await command.call(this.redis, keys.length, ...keys, ...args);
      this.setAvailable(true);
      return result;
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.retryAt = Date.now() + this.retryAfterFailureMs;
      this.setAvailable(false, err);
      throw err;
    } finally {
      if (--this.inflight === 0) this.holdEventLoop(false);
    }
  }

  /** While the very first connection is being made, waits for it up to commandTimeoutMs. */
  private firstConnection(): Promise<void> {
    const status = this.redis.status;
    if (status === 'ready' || !this.available || !['wait', 'connecting', 'connect'].includes(status)) return Promise.resolve();
    this.connecting ??= connectionAttemptSettled(this.redis, this.commandTimeoutMs).then(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private setAvailable(available: boolean, error?: Error): void {
    if (this.closing || available === this.available) return;
    this.available = available;
    try {
      this.onAvailability(available, available ? undefined : error);
    } catch {
      // The listener's failure is not ours.
    }
  }
}
