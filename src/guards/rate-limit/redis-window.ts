import type { Limits } from './limits';
import { ADMIT_LUA, REWEIGH_LUA } from './lua';
import { WINDOW_MS } from './window';
import { RedisConnection, type RedisConnectionOptions } from '../../util/redis-connection';

/** A command without a reply within `commandTimeoutMs` fails (and the limiter falls back to memory). */
export interface RedisWindowsOptions extends RedisConnectionOptions {
  /** Hash tag of every key: '{<namespace>}:rl:<provider>|<model>'. Default 'llm-governor'. */
  namespace?: string;
  /** After a failed command while the socket still looks connected, Redis is skipped this long. Default 1000 ms. */
  retryAfterFailureMs?: number;
  /** The window (tests may shorten it). Default 60 s. */
  windowMs?: number;
}

export type AdmitReply = { admitted: true } | { admitted: false; waitMs: number; limit: 'rpm' | 'tpm' };

type AvailabilityListener = (available: boolean, error?: Error) => void;

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
  private readonly conn: RedisConnection;
  private readonly retryAfterFailureMs: number;
  private readonly windowMs: number;
  private available = true;
  private retryAt = 0;

  constructor(
    url: string,
    opts: RedisWindowsOptions = {},
    private readonly onAvailability: AvailabilityListener = () => undefined,
  ) {
    const namespace = opts.namespace ?? 'llm-governor';
    this.prefix = `{${namespace}}:rl:`;
    this.retryAfterFailureMs = opts.retryAfterFailureMs ?? 1_000;
    this.windowMs = opts.windowMs ?? WINDOW_MS;
    this.conn = new RedisConnection(url, opts, { lgRateAdmit: ADMIT_LUA, lgRateReweigh: REWEIGH_LUA });
    this.conn.on('error', (error: Error) => this.setAvailable(false, error));
    this.conn.on('close', () => this.setAvailable(false, new Error('the connection to Redis closed')));
    this.conn.on('ready', () => this.setAvailable(true));
  }

  /** Whether an admission should ask Redis now (else the caller uses its in-memory window). */
  get usable(): boolean {
    if (this.conn.closed) return false;
    if (this.available) return true;
    return this.conn.redis.status === 'ready' && Date.now() >= this.retryAt;
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

  close(): Promise<void> {
    return this.conn.close();
  }

  // -------------------------------------------------------------------------------------------

  private keys(target: string): string[] {
    return [`${this.prefix}${target}`, `${this.prefix}${target}:sum`];
  }

  private async run(script: 'lgRateAdmit' | 'lgRateReweigh', target: string, args: string[]): Promise<unknown> {
    if (this.conn.closed) throw new Error('rate limiter: the Redis connection is closed');
    try {
      const result = await this.conn.script(script, this.keys(target), args);
      this.setAvailable(true);
      return result;
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      this.retryAt = Date.now() + this.retryAfterFailureMs;
      this.setAvailable(false, err);
      throw err;
    }
  }

  private setAvailable(available: boolean, error?: Error): void {
    if (this.conn.closed || available === this.available) return;
    this.available = available;
    try {
      this.onAvailability(available, available ? undefined : error);
    } catch {
      // The listener's failure is not ours.
    }
  }
}
