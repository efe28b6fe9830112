import type { Pico } from '../money';
import { CALENDAR_GRACE_MS, SETTLED_RETENTION_MS, assertAmount, assertId, assertKeys, assertTime, bucketEndMs, rollingMarginMs } from './common';
import { LIST_LUA, MARK_ONCE_LUA, RENEW_LUA, RESERVE_LUA, SETTLE_LUA, STATES_LUA } from './lua';
import { BudgetStoreUnavailableError } from './types';
import type { BudgetKey, BudgetListEntry, BudgetState, BudgetStore, ReserveResult } from './types';
import { RedisConnection, type RedisConnectionOptions } from '../../util/redis-connection';

/** A command without a reply within `commandTimeoutMs` fails with BudgetStoreUnavailableError. */
export interface RedisBudgetStoreOptions extends RedisConnectionOptions {
  /** Prefix of every key (as a hash tag: '{llm-governor}:b:<id>'). Default 'llm-governor'. */
  namespace?: string;
}

type AvailabilityListener = (available: boolean, error?: Error) => void;

type ScriptName = 'lgReserve' | 'lgSettle' | 'lgRenew' | 'lgStates' | 'lgMarkOnce' | 'lgList';

/** Redis replies that mean "not available right now" rather than "bad request". */
const UNAVAILABLE_REPLIES = /^(LOADING|BUSY|MASTERDOWN|READONLY|OOM|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\b/;

/**
 * A budget store shared by every process that uses the same Redis: each operation is one Lua
 * script call (EVALSHA through ioredis `defineCommand`, which falls back to EVAL on NOSCRIPT),
 * atomic across all of the call's keys. See `lua.ts` for the key layout and expiry.
 *
 * When Redis cannot be reached, operations fail fast with BudgetStoreUnavailableError (no offline
 * queue; in-flight commands are rejected when the connection drops, or after commandTimeoutMs),
 * while ioredis reconnects in the background. `onAvailability` reports the transitions.
 */
export class RedisBudgetStore implements BudgetStore {
  readonly kind = 'redis' as const;
  readonly namespace: string;
  private readonly prefix: string;
  private readonly conn: RedisConnection;
  private readonly listeners = new Set<AvailabilityListener>();
  private available = true;

  constructor(url: string, opts: RedisBudgetStoreOptions = {}) {
    this.namespace = opts.namespace ?? 'llm-governor';
    if (!this.namespace) throw new TypeError('RedisBudgetStore: namespace must not be empty');
    this.prefix = `{${this.namespace}}:`;
    const scripts: Record<ScriptName, string> = {
      lgReserve: RESERVE_LUA,
      lgSettle: SETTLE_LUA,
      lgRenew: RENEW_LUA,
      lgStates: STATES_LUA,
      lgMarkOnce: MARK_ONCE_LUA,
      lgList: LIST_LUA,
    };
    this.conn = new RedisConnection(url, opts, scripts);
    this.conn.on('error', (error: Error) => this.setAvailable(false, error));
    this.conn.on('close', () => this.setAvailable(false, new Error('the connection to Redis closed')));
    this.conn.on('ready', () => this.setAvailable(true));
  }

  /** Listens to availability transitions (false once when Redis becomes unreachable, true once when it recovers). Returns an unsubscribe function. */
  onAvailability(cb: AvailabilityListener): () => void {
    this.listeners.add(cb);
    return () => {
      this.listeners.delete(cb);
    };
  }

  /** Whether the last thing seen from Redis was a success (or the connection is being established). */
  get isAvailable(): boolean {
    return this.available;
  }

  async reserve(req: { reservationId: string; amount: Pico; keys: BudgetKey[]; nowMs: number; expiresAtMs: number }): Promise<ReserveResult> {
    assertId('reservationId', req.reservationId);
    assertAmount('amount', req.amount);
    assertTime('nowMs', req.nowMs);
    assertTime('expiresAtMs', req.expiresAtMs);
    assertKeys(req.keys);
    if (req.keys.length === 0) return { ok: true, states: [] };
    const { nowMs } = req;
    const args = [req.reservationId, String(req.amount), String(nowMs), String(req.expiresAtMs)];
    for (const key of req.keys) {
      const ttl = key.rolling ? Math.max(key.rolling.durationMs, req.expiresAtMs - nowMs) + rollingMarginMs(key.rolling.bucketMs) : key.windowEndMs + CALENDAR_GRACE_MS - nowMs;
      args.push(...this.keyArgs(key, ttl));
    }
    const reply = (await this.run('lgReserve', this.keyNames(req.keys), args)) as number[];
    const states = toStates(reply.slice(2), req.keys.length);
    return reply[0] === 1 ? { ok: true, states } : { ok: false, failed: Number(reply[1]), states };
  }

  async renew(req: { reservationId: string; keys: BudgetKey[]; nowMs: number; expiresAtMs: number }): Promise<void> {
    assertId('reservationId', req.reservationId);
    assertTime('expiresAtMs', req.expiresAtMs);
    assertKeys(req.keys);
    if (req.keys.length === 0) return;
    await this.run('lgRenew', this.keyNames(req.keys), [req.reservationId, String(req.expiresAtMs), String(req.nowMs)]);
  }

  async settle(req: { reservationId: string; actual: Pico; keys: BudgetKey[]; nowMs: number }): Promise<BudgetState[]> {
    assertId('reservationId', req.reservationId);
    assertAmount('actual', req.actual);
    assertTime('nowMs', req.nowMs);
    assertKeys(req.keys);
    if (req.keys.length === 0) return [];
    const { nowMs } = req;
    const args = [req.reservationId, String(req.actual), String(nowMs), String(nowMs + SETTLED_RETENTION_MS)];
    for (const key of req.keys) {
      const ttl = key.rolling ? Math.max(key.rolling.durationMs, SETTLED_RETENTION_MS) + rollingMarginMs(key.rolling.bucketMs) : key.windowEndMs + CALENDAR_GRACE_MS - nowMs;
      args.push(...this.keyArgs(key, ttl));
    }
    const reply = (await this.run('lgSettle', this.keyNames(req.keys), args)) as number[];
    return toStates(reply, req.keys.length);
  }

  async states(keys: BudgetKey[], nowMs: number): Promise<BudgetState[]> {
    assertTime('nowMs', nowMs);
    assertKeys(keys);
    if (keys.length === 0) return [];
    const args = [String(nowMs)];
    for (const key of keys) args.push(String(key.rolling?.durationMs ?? 0), String(key.rolling?.bucketMs ?? 0));
    const reply = (await this.run('lgStates', this.keyNames(keys), args)) as number[];
    return toStates(reply, keys.length);
  }

  async markOnce(key: BudgetKey, mark: string, nowMs: number): Promise<boolean> {
    assertTime('nowMs', nowMs);
    assertKeys([key]);
    assertId('mark', mark);
    const validUntil = key.rolling ? nowMs + key.rolling.durationMs : key.windowEndMs;
    const ttl = key.rolling ? key.rolling.durationMs + rollingMarginMs(key.rolling.bucketMs) : key.windowEndMs + CALENDAR_GRACE_MS - nowMs;
    const [limit, , windowEnd, duration, bucket] = this.keyArgs(key, ttl);
    const reply = await this.run('lgMarkOnce', [this.keyName('b', key.id)], [mark, String(nowMs), String(validUntil), limit!, windowEnd!, duration!, bucket!, String(ttl)]);
    return Number(reply) === 1;
  }

  async list(nowMs: number): Promise<BudgetListEntry[]> {
    assertTime('nowMs', nowMs);
    const marker = `${this.prefix}b:`;
    const pattern = `${escapeGlob(marker)}*`;
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const [next, found] = await this.translated(() => this.conn.send(() => this.conn.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)));
      for (const name of found) if (name.startsWith(marker)) ids.add(name.slice(marker.length));
      cursor = next;
    } while (cursor !== '0');
    const out: BudgetListEntry[] = [];
    const all = [...ids].sort();
    for (let i = 0; i < all.length; i += 200) {
      const batch = all.slice(i, i + 200);
      const names = batch.flatMap((id) => (['b', 'r', 'z', 'k'] as const).map((t) => this.keyName(t, id)));
      const reply = (await this.run('lgList', names, [String(nowMs)])) as number[];
      batch.forEach((id, j) => {
        const [exists, limit, wend, dur, bms, spent, reserved] = reply.slice(7 * j, 7 * j + 7).map(Number);
        if (exists !== 1) return;
        const rolling = dur! > 0 ? { durationMs: dur!, bucketMs: bms! } : undefined;
        out.push({
          id,
          limit: limit!,
          windowEndMs: rolling ? bucketEndMs(nowMs, rolling.bucketMs) : wend!,
          state: { spent: spent!, reserved: reserved! },
          ...(rolling ? { rolling } : {}),
        });
      });
    }
    return out;
  }

  async close(): Promise<void> {
    this.listeners.clear();
    await this.conn.close();
  }

  // -------------------------------------------------------------------------------------------

  private keyName(type: 'b' | 'r' | 'z' | 'k', id: string): string {
    return `${this.prefix}${type}:${id}`;
  }

  private keyNames(keys: readonly BudgetKey[]): string[] {
    return keys.flatMap((key) => (['b', 'r', 'z', 'k'] as const).map((t) => this.keyName(t, key.id)));
  }

  /** limit, mode, windowEnd, duration (0: calendar), bucket, ttl — as the scripts read them. */
  private keyArgs(key: BudgetKey, ttlMs: number): string[] {
    return [String(key.limit), key.mode, String(key.rolling ? 0 : key.windowEndMs), String(key.rolling?.durationMs ?? 0), String(key.rolling?.bucketMs ?? 0), String(Math.floor(ttlMs))];
  }

  private run(script: ScriptName, keys: string[], args: string[]): Promise<unknown> {
    return this.translated(() => this.conn.script(script, keys, args));
  }

  /** Runs one command sent through the connection, mapping failures to BudgetStoreUnavailableError. */
  private async translated<T>(work: () => Promise<T>): Promise<T> {
    if (this.conn.closed) throw new BudgetStoreUnavailableError('budget store: the Redis store is closed');
    let result: T;
    try {
      result = await work();
    } catch (error) {
      throw this.translate(error);
    }
    this.setAvailable(true);
    return result;
  }

  private translate(error: unknown): Error {
    const err = error instanceof Error ? error : new Error(String(error));
    if (err.name === 'ReplyError' && !UNAVAILABLE_REPLIES.test(err.message)) {
      // Redis answered: it is reachable; the request itself failed (a bug, not an outage).
      this.setAvailable(true);
      return new Error(`budget store: Redis replied with an error: ${err.message}`, { cause: err });
    }
    const wrapped = new BudgetStoreUnavailableError(`budget store: Redis unavailable: ${err.message}`, { cause: err });
    this.setAvailable(false, wrapped);
    return wrapped;
  }

  private setAvailable(available: boolean, error?: Error): void {
    if (this.conn.closed || available === this.available) return;
    this.available = available;
    for (const listener of [...this.listeners]) {
      try {
        listener(available, available ? undefined : error);
      } catch {
        // A listener's failure is not the store's.
      }
    }
  }
}

function toStates(flat: readonly unknown[], n: number): BudgetState[] {
  const states: BudgetState[] = [];
  for (let i = 0; i < n; i++) states.push({ spent: Number(flat[2 * i]), reserved: Number(flat[2 * i + 1]) });
  return states;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
