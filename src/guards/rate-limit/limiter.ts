import { randomBytes } from 'node:crypto';
import { diag, type Histogram, type Meter } from '@opentelemetry/api';
import type { GovernorConfig } from '../../config/schema';
import { BUCKETS, GOVERNOR_METRIC } from '../../semconv';
import { ProviderHeaders } from './provider-headers';
import { newTargetState, type TargetState, type Waiter } from './queue-types';
import { FREE_PERMIT, freePermit, sanitizeTokens, windowPermit, type RateLimitPermit } from './permit';
import { abortReason, RateLimitWaitExceeded } from './errors';
import { anyLimit, limitsResolver, targetKey, type Limits, type RateLimitTarget } from './limits';
import { RedisWindows } from './redis-window';
import { SlidingWindow, WINDOW_MS, type WindowEntry } from './window';

export type { RateLimitPermit } from './permit';

export interface RateLimiterOptions {
  config: GovernorConfig;
  meter: Meter;
  /** The clock (ms). Timers are Node's, so a fake clock goes with fake timers. */
  now?: () => number;
  /** @internal Tests only: a shorter window than the 60 s that RPM and TPM mean. */
  windowMs?: number;
}

/** Shortest pause before the head of a queue asks Redis again. */
const REDIS_MIN_POLL_MS = 5;
/** How often (at most) idle targets and stale gauge values are dropped, on the next call. */
const SWEEP_EVERY_MS = WINDOW_MS;
/** Cached limit lookups before the cache starts over. */
const LIMITS_CACHE_MAX = 10_000;

/**
 * The client-side rate limiter: per provider+model, an exact 60-second sliding window of sends
 * (RPM, and TPM by each request's token estimate) with a fair FIFO queue in front of it.
 *
 * The head of a target's queue is admitted as soon as the window has room; otherwise one timer
 * (ref'd: a waiting call is the app's work) wakes it at the exact time the blocking entry leaves
 * the window. With `redis_url`, the window is shared by every process (one Lua script per attempt,
 * see `lua.ts`), the head asks again when Redis says room frees up, and while Redis is unreachable
 * each process falls back to its own window (which mirrors its own admissions). When idle it holds
 * no timers, and idle targets are dropped.
 *
 * `observe()` reads the provider's `x-ratelimit-*` headers: the remaining counts become a gauge, and
 * a count at 0 pauses the target until its reset, with or without configured limits.
 */
export class RateLimiter {
  /** True when any RPM/TPM limit is configured (else acquire() resolves at once, unless the provider's headers paused the target). */
  active: boolean;

  private limitsOf: (target: RateLimitTarget) => Limits | undefined;
  private readonly limitsCache = new Map<string, Limits | null>();
  private readonly states = new Map<string, TargetState>();
  private readonly providerHeaders: ProviderHeaders;
  private readonly now: () => number;
  private maxWaitMs: number;
  private readonly waitHistogram: Histogram;
  private readonly redisUrl: string | undefined;
  private readonly redisCommandTimeoutMs: number | undefined;
  private readonly windowMs: number;
  private redis: RedisWindows | undefined;
  private readonly instanceId = randomBytes(6).toString('hex');
  private seq = 0;
  private lastSweep: number;
  private closed = false;

  constructor(opts: RateLimiterOptions) {
    const { config, meter } = opts;
    this.now = opts.now ?? (() => Date.now());
    this.limitsOf = limitsResolver(config);
    this.active = anyLimit(config);
    this.maxWaitMs = Math.max(0, (config.rate_limit_max_wait_seconds ?? 30) * 1000);
    this.redisUrl = config.redis_url;
    this.redisCommandTimeoutMs = config.redis_command_timeout_ms;
    this.windowMs = opts.windowMs ?? WINDOW_MS;
    this.lastSweep = this.now();
    this.waitHistogram = meter.createHistogram(GOVERNOR_METRIC.RATELIMIT_WAIT, {
      description: 'Time calls waited in the client-side rate limiter before they were sent',
      unit: 's',
      advice: { explicitBucketBoundaries: [...BUCKETS.SECONDS] },
    });
    this.providerHeaders = new ProviderHeaders(meter, this.windowMs, this.now);
  }

  /**
   * Waits in a fair FIFO queue per target until the request may be sent. `tokens` = the request's
   * token estimate (input + requested output). Rejects with RateLimitWaitExceeded after the max
   * wait (at once when the wait is known to be longer); rejects with the signal's reason if
   * `signal` aborts while waiting, and leaves the queue.
   */
  acquire(target: RateLimitTarget, tokens: number, signal?: AbortSignal): Promise<RateLimitPermit> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.closed) return Promise.resolve(FREE_PERMIT);
    const now = this.now();
    this.sweep(now);
    const key = targetKey(target);
    let s = this.states.get(key);
    if (!s) {
      const limits = this.limitsFor(target, key);
      if (!limits) return Promise.resolve(FREE_PERMIT);
      s = this.createState(target, key, limits);
    } else if (!s.limits && s.live === 0 && s.pausedUntil <= now) {
      return Promise.resolve(FREE_PERMIT);
    }
    const state = s;
    return new Promise<RateLimitPermit>((resolve, reject) => {
      const w: Waiter = {
        tokens: sanitizeTokens(tokens),
        enqueuedAt: now,
        deadline: now + this.maxWaitMs,
        done: false,
        resolve,
        reject,
      };
      state.queue.push(w);
      state.live++;
      this.pump(state);
      if (w.done) return; // admitted (or refused) at once: no timer, no listener
      w.deadlineTimer = setTimeout(() => this.expire(state, w), Math.max(0, w.deadline - this.now()));
      if (signal) {
        w.signal = signal;
        w.onAbort = () => {
          if (w.done) return;
          this.finish(state, w);
          reject(abortReason(signal));
          if (!state.asking) this.pump(state);
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
    });
  }

  /**
   * Reads a provider response's headers: x-ratelimit-remaining-requests / -tokens become the gauge
   * llm_governor.ratelimit.remaining; a remaining count of 0 pauses the target until
   * x-ratelimit-reset-requests / -tokens elapses. Never throws.
   */
  observe(target: RateLimitTarget, headers: { get(name: string): string | null }): void {
    try {
      if (this.closed) return;
      const now = this.now();
      const key = targetKey(target);
      for (const p of this.providerHeaders.read(target, key, headers, now)) this.pause(target, key, p.until, p.by);
      this.sweep(now);
    } catch (error) {
      diag.debug(`llm-governor: rate limiter: could not read rate-limit headers: ${String(error)}`);
    }
  }

  /** Rejects the calls still waiting, drops every state and closes the Redis connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.states.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      for (let i = s.first; i < s.queue.length; i++) {
        const w = s.queue[i]!;
        if (w.done) continue;
        this.finish(s, w);
        w.reject(new Error('llm-governor: the rate limiter was closed while this call waited'));
      }
    }
    this.states.clear();
    this.providerHeaders.clear();
    await this.redis?.close();
  }

  // ── the queue ────────────────────────────────────────────────────────────────────────────

  /** Admits the head of the queue while it can; otherwise schedules its next attempt. */
  private pump(s: TargetState): void {
    if (s.asking || this.closed) return;
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    for (;;) {
      const w = this.head(s);
      if (!w) return;
      const now = this.now();
      if (s.pausedUntil > now) {
        if (this.hold(s, w, now, s.pausedUntil - now, s.pausedBy)) return;
        continue;
      }
      if (!s.limits) {
        this.admit(s, w, now);
        continue;
      }
      const redis = this.redisWindows();
      if (redis?.usable) {
        this.ask(redis, s, w);
        return;
      }
      const check = s.window.check(now, w.tokens, s.limits);
      if (check.waitMs <= 0) {
        this.admit(s, w, now);
        continue;
      }
      if (this.hold(s, w, now, check.waitMs, `${s.key}|${check.limit}`)) return;
    }
  }

  /**
   * The head must wait `ms`: a timer for its next attempt, or (the wait passes its deadline) its
   * refusal now. Calls behind it whose deadline comes before that are refused now too: they cannot
   * overtake it. True when the head waits.
   */
  private hold(s: TargetState, w: Waiter, now: number, ms: number, limiter: string, minMs = 0): boolean {
    s.blockedUntil = now + ms;
    s.blockedBy = limiter;
    if (now + ms > w.deadline) {
      this.finish(s, w);
      w.reject(new RateLimitWaitExceeded(limiter, now - w.enqueuedAt, ms, this.maxWaitMs));
      return false;
    }
    for (let i = s.first; i < s.queue.length; i++) {
      const f = s.queue[i]!;
      if (f === w || f.done || now + ms <= f.deadline) continue;
      this.finish(s, f);
      f.reject(new RateLimitWaitExceeded(limiter, now - f.enqueuedAt, ms, this.maxWaitMs));
    }
    s.timer = setTimeout(
      () => {
        s.timer = undefined;
        this.pump(s);
      },
      Math.max(ms, minMs),
    );
    return true;
  }

  /** One admission attempt at Redis for the head; the queue moves on when it answers. */
  private ask(redis: RedisWindows, s: TargetState, w: Waiter): void {
    s.asking = true;
    const id = `${this.instanceId}.${(++this.seq).toString(36)}`;
    const member = RedisWindows.member(id, w.tokens);
    redis.admit(s.key, member, w.tokens, s.limits!).then(
      (reply) => {
        s.asking = false;
        const now = this.now();
        if (reply.admitted) {
          // The waiter left (abort, deadline, close) while Redis admitted it: give the slot back.
          if (w.done) redis.reweigh(s.key, member, '', -w.tokens).catch(() => undefined);
          else this.admit(s, w, now, member);
        } else if (!w.done && this.hold(s, w, now, reply.waitMs, `${s.key}|${reply.limit}`, REDIS_MIN_POLL_MS)) {
          return;
        }
        this.pump(s);
      },
      () => {
        // Redis is unreachable (RedisWindows now says so): this process's window takes over.
        s.asking = false;
        this.pump(s);
      },
    );
  }

  private admit(s: TargetState, w: Waiter, now: number, member?: string): void {
    this.finish(s, w);
    const waitedMs = Math.max(0, now - w.enqueuedAt);
    if (waitedMs > 0) this.waitHistogram.record(waitedMs / 1000, s.attrs);
    if (!s.limits) {
      w.resolve(freePermit(waitedMs));
      return;
    }
    // Recorded here in Redis mode too: the fallback window then knows this process's sends.
    const entry = s.window.add(now, w.tokens);
    w.resolve(this.permit(s, entry, w.tokens, waitedMs, member));
  }

  private permit(s: TargetState, entry: WindowEntry, tokens: number, waitedMs: number, member: string | undefined): RateLimitPermit {
    // Room may have changed for the head: it tries again.
    const changed = () => s.live > 0 && this.states.get(s.key) === s && this.pump(s);
    const shared = (newMember: string, delta: number) => member && this.redis?.usable && this.redis.reweigh(s.key, member, newMember, delta).catch(() => undefined);
    return windowPermit(waitedMs, tokens, {
      reweigh: (next) => {
        if (this.closed) return;
        s.window.reweigh(entry, next, this.now());
        if (member) shared(RedisWindows.member(member.slice(0, member.lastIndexOf(':')), next), next - tokens);
        changed();
      },
      remove: () => {
        if (this.closed) return;
        s.window.remove(entry, this.now());
        shared('', -tokens);
        changed();
      },
    });
  }

  /**
   * Deadline of a waiter: the queue gets one last attempt, then the call is refused. While an
   * attempt is at Redis, its answer decides instead (a round trip is not a wait for room):
   * the queue moves on, and hold() refuses whoever cannot make it.
   */
  private expire(s: TargetState, w: Waiter): void {
    w.deadlineTimer = undefined;
    if (w.done) return;
    if (!s.asking) this.pump(s);
    if (w.done || s.asking) return;
    const now = this.now();
    const estimate = Math.max(s.pausedUntil - now, s.blockedUntil - now, s.limits && !this.redis?.usable ? s.window.check(now, w.tokens, s.limits).waitMs : 0);
    this.finish(s, w);
    w.reject(new RateLimitWaitExceeded(s.blockedBy, now - w.enqueuedAt, estimate > 0 ? estimate : undefined, this.maxWaitMs));
    if (!s.asking) this.pump(s);
  }

  /** Marks a waiter done (it leaves the queue) and drops its timer and abort listener. */
  private finish(s: TargetState, w: Waiter): void {
    w.done = true;
    s.live--;
    if (w.deadlineTimer) clearTimeout(w.deadlineTimer);
    w.deadlineTimer = undefined;
    if (w.signal && w.onAbort) w.signal.removeEventListener('abort', w.onAbort);
    w.signal = undefined;
    w.onAbort = undefined;
  }

  private head(s: TargetState): Waiter | undefined {
    while (s.first < s.queue.length && s.queue[s.first]!.done) s.first++;
    if (s.first === s.queue.length) {
      s.queue = [];
      s.first = 0;
      return undefined;
    }
    if (s.first > 64 && s.first * 2 > s.queue.length) {
      s.queue = s.queue.slice(s.first);
      s.first = 0;
    }
    return s.queue[s.first];
  }

  // ── targets ──────────────────────────────────────────────────────────────────────────────

  private limitsFor(target: RateLimitTarget, key: string): Limits | undefined {
    let limits = this.limitsCache.get(key);
    if (limits === undefined) {
      if (this.limitsCache.size >= LIMITS_CACHE_MAX) this.limitsCache.clear();
      limits = this.limitsOf(target) ?? null;
      this.limitsCache.set(key, limits);
    }
    return limits ?? undefined;
  }

  private createState(target: RateLimitTarget, key: string, limits: Limits | undefined): TargetState {
    const s = newTargetState(target, key, limits, new SlidingWindow(this.windowMs));
    this.states.set(key, s);
    return s;
  }

  private pause(target: RateLimitTarget, key: string, until: number, by: string): void {
    const s = this.states.get(key) ?? this.createState(target, key, this.limitsFor(target, key));
    if (until <= s.pausedUntil) return;
    s.pausedUntil = until;
    s.pausedBy = by;
    if (s.live > 0 && !s.asking) this.pump(s);
  }

  /** At most once a window, on a call: drops idle targets (empty window, no queue, no pause) and stale gauge values. */
  private sweep(now: number): void {
    if (now - this.lastSweep < Math.min(SWEEP_EVERY_MS, this.windowMs) && now >= this.lastSweep) return;
    this.lastSweep = now;
    for (const [key, s] of this.states) {
      if (s.live === 0 && !s.asking && !s.timer && s.pausedUntil <= now && s.window.prune(now)) this.states.delete(key);
    }
    this.providerHeaders.sweep(now);
  }

  /** The shared windows, connected on first use (only when a limit applies and `redis_url` is set). */
  private redisWindows(): RedisWindows | undefined {
    if (!this.redisUrl || this.closed) return undefined;
    this.redis ??= new RedisWindows(this.redisUrl, { windowMs: this.windowMs, commandTimeoutMs: this.redisCommandTimeoutMs }, (available, error) => {
      if (available) diag.info('llm-governor: rate limiter: Redis reachable again; the rate-limit windows are shared again');
      else diag.warn(`llm-governor: rate limiter: Redis unreachable (${error?.message ?? 'unknown error'}); each process uses its own rate-limit window until it is back`);
    });
    return this.redis;
  }

  /** A reload: new limits and wait for every target from now on; the windows keep what they counted. */
  reconfigure(config: GovernorConfig): void {
    this.limitsOf = limitsResolver(config);
    this.active = anyLimit(config);
    this.maxWaitMs = Math.max(0, (config.rate_limit_max_wait_seconds ?? 30) * 1000);
    this.limitsCache.clear();
    for (const s of this.states.values()) {
      s.limits = this.limitsFor(s.target, s.key);
      s.blockedBy = `${s.key}|${s.limits?.rpm !== undefined ? 'rpm' : 'tpm'}`;
      if (s.live > 0 && !s.asking) this.pump(s);
    }
  }

  /** Targets held in memory (tests). */
  get size(): number {
    return this.states.size;
  }
}
