// The rate limiter in one process (in-memory windows), on fake timers: the real 60-second window,
// measured over every interval, FIFO order, the maximum wait, aborts, the provider's headers, metrics.
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { configSchema, type ConfigInput } from '../../src/config/schema';
import { RateLimiter, RateLimitWaitExceeded, type RateLimitPermit } from '../../src/guards/rate-limit';
import { ATTR, GOVERNOR_METRIC } from '../../src/semconv';

class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

const W = 60_000;
const T0 = 1_750_000_000_000;
const gpt4o = { provider: 'openai', model: 'gpt-4o' };

let reader: TestReader;
let limiters: RateLimiter[] = [];

function make(config: ConfigInput): RateLimiter {
  reader = new TestReader();
  const provider = new MeterProvider({ readers: [reader] });
  const rl = new RateLimiter({ config: configSchema.parse(config), meter: provider.getMeter('test') });
  limiters.push(rl);
  return rl;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(T0);
});
afterEach(async () => {
  for (const rl of limiters) await rl.close();
  limiters = [];
  vi.useRealTimers();
});

/** Time since T0 (ms). */
const t = () => Date.now() - T0;

interface Call {
  id: number;
  tokens: number;
  arrivedAt: number;
  admittedAt?: number;
  permit?: RateLimitPermit;
  error?: unknown;
}

/** Calls acquire() and records when it resolves (or how it fails). */
function call(rl: RateLimiter, id: number, tokens = 1, target = gpt4o, signal?: AbortSignal): Call {
  const c: Call = { id, tokens, arrivedAt: t() };
  rl.acquire(target, tokens, signal).then(
    (permit) => {
      c.admittedAt = t();
      c.permit = permit;
    },
    (error) => (c.error = error),
  );
  return c;
}

const flush = () => vi.advanceTimersByTimeAsync(0);

/** The most admissions (count) and tokens inside any half-open interval of length W. */
function busiestWindow(calls: Call[]): { count: number; tokens: number } {
  const admitted = calls.filter((c) => c.admittedAt !== undefined).sort((a, b) => a.admittedAt! - b.admittedAt!);
  let count = 0;
  let tokens = 0;
  let j = 0;
  let sum = 0;
  for (let i = 0; i < admitted.length; i++) {
    sum += admitted[i]!.tokens;
    while (admitted[i]!.admittedAt! - admitted[j]!.admittedAt! >= W) sum -= admitted[j++]!.tokens;
    count = Math.max(count, i - j + 1);
    tokens = Math.max(tokens, sum);
  }
  return { count, tokens };
}

async function collect(): Promise<ResourceMetrics> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics;
}

function points(rm: ResourceMetrics, name: string) {
  return rm.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === name)
    .flatMap((m) => m.dataPoints as { attributes: Record<string, unknown>; value: unknown }[]);
}

/** A small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let r = Math.imul(a ^ (a >>> 15), 1 | a);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

describe('RateLimiter (in memory)', () => {
  it('no limit for the target: resolves at once, holds nothing', async () => {
    const none = make({});
    expect(none.active).toBe(false);
    const p = await none.acquire(gpt4o, 1_000);
    expect(p.waitedMs).toBe(0);
    p.settle(5);
    const other = make({ rate_limits: [{ model: 'o3', rpm: 1 }] });
    expect(other.active).toBe(true);
    for (let i = 0; i < 100; i++) await other.acquire(gpt4o, 10);
    expect([none.size, other.size, vi.getTimerCount()]).toEqual([0, 0, 0]);
  });

  it('RPM: 23 calls at once under RPM 5 are admitted 5 per window, at exactly the times the oldest leave', async () => {
    const rl = make({ rate_limit_rpm: 5, rate_limit_max_wait_seconds: 3_600 });
    const calls = Array.from({ length: 23 }, (_, i) => call(rl, i));
    await flush();
    expect(calls.filter((c) => c.admittedAt !== undefined)).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(5 * W);
    expect(calls.map((c) => c.admittedAt)).toEqual([...Array(5).fill(0), ...Array(5).fill(W), ...Array(5).fill(2 * W), ...Array(5).fill(3 * W), ...Array(3).fill(4 * W)]);
    expect(calls.map((c) => c.permit?.waitedMs)).toEqual(calls.map((c) => c.admittedAt));
    expect(busiestWindow(calls).count).toBe(5);
    expect(vi.getTimerCount()).toBe(0); // idle again: no timers
  });

  it('RPM and TPM hold over every 60-second interval, for random arrivals and sizes; FIFO; no idle gap', async () => {
    const rl = make({ rate_limit_rpm: 7, rate_limit_tpm: 300, rate_limit_max_wait_seconds: 3_600 });
    const random = prng(42);
    const calls: Call[] = [];
    let at = 0;
    for (let i = 0; i < 150; i++) {
      at += Math.floor(random() * 6_000);
      const tokens = i === 70 ? 1_000 : 1 + Math.floor(random() * 100); // one request larger than TPM
      const id = i;
      setTimeout(() => calls.push(call(rl, id, tokens)), at);
    }
    for (let i = 0; i < 200 && (calls.length < 150 || calls.some((c) => c.admittedAt === undefined)); i++) await vi.advanceTimersByTimeAsync(W);
    expect(calls.filter((c) => c.error)).toEqual([]);
    expect(calls.filter((c) => c.admittedAt !== undefined)).toHaveLength(150);
    // The oversized request went alone: from 60 s before it to 60 s after it, nothing else.
    const big = calls.find((c) => c.tokens === 1_000)!;
    expect(calls.filter((c) => c !== big && Math.abs(c.admittedAt! - big.admittedAt!) < W)).toEqual([]);
    const others = calls.filter((c) => c !== big);
    expect(busiestWindow(others)).toEqual({ count: 7, tokens: expect.any(Number) });
    expect(busiestWindow(others).tokens).toBeLessThanOrEqual(300);
    expect(busiestWindow(others).tokens).toBeGreaterThan(250); // the limit was reached, not just respected
    // FIFO: admitted in arrival order.
    const order = [...calls].sort((a, b) => a.admittedAt! - b.admittedAt! || a.id - b.id).map((c) => c.id);
    expect(order).toEqual(calls.map((c) => c.id).sort((a, b) => a - b));
    // Work-conserving: a call that waited was admitted exactly when an earlier one left the window,
    // or together with the call before it.
    const admittedAt = new Set(calls.map((c) => c.admittedAt!));
    const byId = [...calls].sort((a, b) => a.id - b.id);
    byId.forEach((c, i) => {
      if (c.admittedAt === c.arrivedAt) return;
      const leaving = admittedAt.has(c.admittedAt! - W);
      const withPrevious = i > 0 && byId[i - 1]!.admittedAt === c.admittedAt;
      expect({ id: c.id, ok: leaving || withPrevious }).toEqual({ id: c.id, ok: true });
    });
  });

  it('TPM: admits while the tokens fit; settle() corrects the weight and wakes the queue; an oversized request waits for an empty window', async () => {
    const rl = make({ rate_limit_tpm: 100, rate_limit_max_wait_seconds: 3_600 });
    const a = call(rl, 1, 40);
    const b = call(rl, 2, 50);
    const c = call(rl, 3, 20); // 110 > 100: waits
    await flush();
    expect([a.admittedAt, b.admittedAt, c.admittedAt]).toEqual([0, 0, undefined]);
    await vi.advanceTimersByTimeAsync(10_000);
    a.permit!.settle(25); // the real usage was lower: 75 + 20 fits now
    await flush();
    expect(c.admittedAt).toBe(10_000);
    c.permit!.settle(20); // unchanged
    c.permit!.settle(1); // only the first settle counts
    const big = call(rl, 4, 250); // alone larger than TPM: waits until a, b and c have left
    await vi.advanceTimersByTimeAsync(W);
    expect(big.admittedAt).toBe(10_000 + W);
    const after = call(rl, 5, 1); // and nothing fits for a window after it
    await vi.advanceTimersByTimeAsync(2 * W);
    expect(after.admittedAt).toBe(10_000 + 2 * W);
  });

  it('FIFO: a later call that would fit never overtakes an earlier waiting one; other targets are independent', async () => {
    const rl = make({ rate_limit_tpm: 100, rate_limit_max_wait_seconds: 3_600 });
    const first = call(rl, 1, 60);
    await vi.advanceTimersByTimeAsync(1_000);
    const big = call(rl, 2, 80); // must wait for `first` to leave
    const small = call(rl, 3, 10); // would fit now (60 + 10), but queues behind `big`
    const elsewhere = call(rl, 4, 90, { provider: 'openai', model: 'gpt-4o-mini' });
    await flush();
    expect([first.admittedAt, big.admittedAt, small.admittedAt, elsewhere.admittedAt]).toEqual([0, undefined, undefined, 1_000]);
    await vi.advanceTimersByTimeAsync(W);
    expect([big.admittedAt, small.admittedAt]).toEqual([W, W]);
    expect([big.permit!.waitedMs, small.permit!.waitedMs]).toEqual([W - 1_000, W - 1_000]);
  });

  it('max wait: a wait known to be too long is refused at once, with the limiter, the time waited and when to retry', async () => {
    const rl = make({ rate_limit_rpm: 2, rate_limit_max_wait_seconds: 10 });
    await rl.acquire(gpt4o, 1);
    await vi.advanceTimersByTimeAsync(5_000);
    await rl.acquire(gpt4o, 1);
    const err = await rl.acquire(gpt4o, 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitWaitExceeded);
    expect(err).toMatchObject({ name: 'RateLimitWaitExceeded', limiter: 'openai|gpt-4o|rpm', waitedMs: 0, retryAfterMs: W - 5_000 });
    expect((err as Error).message).toMatch(/openai\|gpt-4o\|rpm.*longer than the maximum of 10 s/);
    // Within reach of the max wait: it waits, and is admitted at the exact time.
    await vi.advanceTimersByTimeAsync(W - 5_000 - 10_000);
    const c = call(rl, 1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect([c.admittedAt, c.error]).toEqual([W, undefined]);
    expect(c.permit!.waitedMs).toBe(10_000);
  });

  it('max wait: waiters behind the head are refused when they become the head with too long a wait; the TPM limiter is named', async () => {
    const rl = make({ rate_limit_tpm: 100, rate_limit_max_wait_seconds: 50 });
    call(rl, 1, 100);
    await vi.advanceTimersByTimeAsync(20_000);
    const head = call(rl, 2, 100); // waits 40 s
    const next = call(rl, 3, 100); // behind it: then 60 s more
    await vi.advanceTimersByTimeAsync(40_000);
    expect(head.admittedAt).toBe(W);
    expect(next.error).toBeInstanceOf(RateLimitWaitExceeded);
    expect(next.error).toMatchObject({ limiter: 'openai|gpt-4o|tpm', waitedMs: 40_000, retryAfterMs: W });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('max wait 0: never waits', async () => {
    const rl = make({ rate_limit_rpm: 1, rate_limit_max_wait_seconds: 0 });
    await rl.acquire(gpt4o, 1);
    await expect(rl.acquire(gpt4o, 1)).rejects.toMatchObject({ limiter: 'openai|gpt-4o|rpm', waitedMs: 0, retryAfterMs: W });
  });

  it('a wait that ends exactly at the deadline is admitted', async () => {
    const rl = make({ rate_limit_rpm: 1, rate_limit_max_wait_seconds: 60 });
    await rl.acquire(gpt4o, 1);
    const c = call(rl, 1);
    await vi.advanceTimersByTimeAsync(W);
    expect([c.admittedAt, c.error]).toEqual([W, undefined]);
  });

  it('abort while waiting: rejects with the reason, leaves the queue (the next call takes its place), holds nothing', async () => {
    const rl = make({ rate_limit_rpm: 2, rate_limit_max_wait_seconds: 3_600 });
    call(rl, 0);
    call(rl, 1);
    const ac = new AbortController();
    const aborted = call(rl, 2, 1, gpt4o, ac.signal);
    const custom = new AbortController();
    const abortedWithReason = call(rl, 3, 1, gpt4o, custom.signal);
    const next = call(rl, 4);
    const last = call(rl, 5);
    await vi.advanceTimersByTimeAsync(1_000);
    ac.abort();
    custom.abort(new Error('mine'));
    await flush();
    expect(aborted.error).toBeInstanceOf(DOMException);
    expect((aborted.error as DOMException).name).toBe('AbortError');
    expect((abortedWithReason.error as Error).message).toBe('mine');
    await vi.advanceTimersByTimeAsync(W);
    expect([next.admittedAt, last.admittedAt]).toEqual([W, W]);
    // An already aborted signal: rejected at once, nothing queued.
    const pre = AbortSignal.abort();
    await expect(rl.acquire(gpt4o, 1, pre)).rejects.toBe(pre.reason);
    await vi.advanceTimersByTimeAsync(2 * W);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('headers: remaining counts become the gauge; a count at 0 pauses the target until its reset, even without limits', async () => {
    const rl = make({});
    const headers = (h: Record<string, string>) => new Headers(h);
    rl.observe(gpt4o, headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '1.5s', 'x-ratelimit-remaining-tokens': '1234', 'x-ratelimit-reset-tokens': '6m0s' }));
    rl.observe({ provider: 'openai', model: 'o3' }, headers({ 'x-ratelimit-remaining-requests': '7' }));
    const paused = call(rl, 1);
    const behind = call(rl, 2);
    const free = call(rl, 3, 1, { provider: 'openai', model: 'o3' });
    await flush();
    expect([paused.admittedAt, behind.admittedAt, free.admittedAt]).toEqual([undefined, undefined, 0]);
    await vi.advanceTimersByTimeAsync(1_499);
    expect(paused.admittedAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect([paused.admittedAt, behind.admittedAt]).toEqual([1_500, 1_500]);
    expect(paused.permit!.waitedMs).toBe(1_500);

    const gauge = points(await collect(), GOVERNOR_METRIC.RATELIMIT_REMAINING)
      .map((p) => [p.attributes[ATTR.PROVIDER_NAME], p.attributes[ATTR.REQUEST_MODEL], p.attributes[ATTR.KIND], p.value])
      .sort();
    expect(gauge).toEqual([
      ['openai', 'gpt-4o', 'requests', 0],
      ['openai', 'gpt-4o', 'tokens', 1234],
      ['openai', 'o3', 'requests', 7],
    ]);

    // A pause longer than the max wait: refused at once, naming the provider's limit. A reset
    // longer than the window (1m30.5s, or a hostile 99999h) is clamped to the window's 60 s.
    rl.observe(gpt4o, headers({ 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '1m30.5s' }));
    await expect(rl.acquire(gpt4o, 1)).rejects.toMatchObject({ limiter: 'openai|gpt-4o|provider-tokens', waitedMs: 0, retryAfterMs: 60_000 });
    rl.observe(gpt4o, headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '99999h' }));
    await expect(rl.acquire(gpt4o, 1)).rejects.toMatchObject({ retryAfterMs: 60_000 });
    // A pause learned from one server holds that server only.
    const a = { provider: 'openai', model: 'gpt-4.1', server: 'a.example' };
    const b = { provider: 'openai', model: 'gpt-4.1', server: 'b.example' };
    rl.observe(a, headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '50s' }));
    await expect(rl.acquire(a, 1)).rejects.toMatchObject({ limiter: 'openai|gpt-4.1|a.example|provider-requests' });
    (await rl.acquire(b, 1)).settle();
    // Junk never throws.
    expect(() => rl.observe(gpt4o, headers({ 'x-ratelimit-remaining-requests': 'lots', 'x-ratelimit-reset-requests': '??' }))).not.toThrow();
    expect(() =>
      rl.observe(gpt4o, {
        get: () => {
          throw new Error('boom');
        },
      }),
    ).not.toThrow();
    expect(() => rl.observe(gpt4o, null as never)).not.toThrow();
  });

  it('a pause applies on top of configured limits, and a pause that arrives while calls wait delays them', async () => {
    const rl = make({ rate_limit_rpm: 1, rate_limit_max_wait_seconds: 3_600 });
    await rl.acquire(gpt4o, 1);
    const c = call(rl, 1); // RPM: waits until W
    await vi.advanceTimersByTimeAsync(30_000);
    rl.observe(gpt4o, new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '45s' }));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(c.admittedAt).toBeUndefined();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(c.admittedAt).toBe(75_000);
  });

  it('histogram llm_governor.ratelimit.wait: seconds waited, per provider and model, only for calls that waited', async () => {
    const rl = make({ rate_limit_rpm: 1, rate_limit_max_wait_seconds: 3_600 });
    await rl.acquire(gpt4o, 1); // no wait: not recorded
    call(rl, 1);
    call(rl, 2);
    await vi.advanceTimersByTimeAsync(2 * W);
    const [point] = points(await collect(), GOVERNOR_METRIC.RATELIMIT_WAIT);
    expect(point!.attributes).toEqual({ [ATTR.PROVIDER_NAME]: 'openai', [ATTR.REQUEST_MODEL]: 'gpt-4o' });
    expect(point!.value).toMatchObject({ count: 2, sum: 60 + 120 });
  });

  it('memory: idle targets are dropped on a later call; settle after that is harmless', async () => {
    const rl = make({ rate_limit_rpm: 10 });
    const permits: RateLimitPermit[] = [];
    for (let i = 0; i < 500; i++) permits.push(await rl.acquire({ provider: 'openai', model: `m-${i}` }, 10));
    expect(rl.size).toBe(500);
    await vi.advanceTimersByTimeAsync(W);
    await rl.acquire(gpt4o, 1);
    expect(rl.size).toBe(1);
    for (const p of permits) p.settle(1);
    expect(rl.size).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() refuses the calls still waiting and lets later calls through', async () => {
    const rl = make({ rate_limit_rpm: 1, rate_limit_max_wait_seconds: 3_600 });
    await rl.acquire(gpt4o, 1);
    const c = call(rl, 1);
    await rl.close();
    await flush();
    expect((c.error as Error).message).toMatch(/closed/);
    expect((await rl.acquire(gpt4o, 1)).waitedMs).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
