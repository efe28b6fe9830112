// The rate limiter with `redis_url`: several RateLimiter instances (several processes) on one real
// redis-server share each target's window; Redis going away falls back to this process's window.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { diag, DiagLogLevel, metrics, type DiagLogger } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../src/config/schema';
import { RateLimiter, RateLimitWaitExceeded, type RateLimitPermit } from '../../src/guards/rate-limit';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';

const hasRedis = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', ...(process.env.PATH ?? '').split(':').map((d) => `${d}/redis-server`)].some((f) => existsSync(f));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Resolves to 'ok' or the error. */
const outcome = (p: Promise<RateLimitPermit>) =>
  p.then(
    () => 'ok' as const,
    (e: unknown) => e,
  );

describe.skipIf(!hasRedis)('RateLimiter on Redis', () => {
  let server: RedisTestServer;
  let admin: Redis;
  let limiters: RateLimiter[] = [];
  const logs: { level: string; message: string }[] = [];

  beforeAll(async () => {
    server = await startRedis();
    admin = new Redis(server.url);
    admin.on('error', () => undefined);
    const log = (level: string) => (message: string) => logs.push({ level, message });
    const logger: DiagLogger = { error: log('error'), warn: log('warn'), info: log('info'), debug: () => undefined, verbose: () => undefined };
    diag.setLogger(logger, DiagLogLevel.INFO);
  });
  afterEach(async () => {
    await Promise.all(limiters.map((rl) => rl.close()));
    limiters = [];
    logs.length = 0;
  });
  afterAll(async () => {
    diag.disable();
    admin?.disconnect();
    await server?.stop();
  });

  const make = (config: ConfigInput, windowMs?: number, url = server.url) => {
    const rl = new RateLimiter({ config: configSchema.parse({ redis_url: url, ...config }), meter: metrics.getMeter('t'), ...(windowMs ? { windowMs } : {}) });
    limiters.push(rl);
    return rl;
  };
  const target = () => ({ provider: 'openai', model: `m-${randomUUID().slice(0, 8)}` });
  const key = (t: { provider: string; model: string }) => `{llm-governor}:rl:${t.provider}|${t.model}`;

  it('two processes share one window: RPM 5 admits exactly 5 in total; the key layout and expiry', async () => {
    const a = make({ rate_limit_rpm: 5, rate_limit_max_wait_seconds: 0 });
    const b = make({ rate_limit_rpm: 5, rate_limit_max_wait_seconds: 0 });
    const t = target();
    const results = await Promise.all(Array.from({ length: 16 }, (_, i) => outcome((i % 2 ? a : b).acquire(t, 10))));
    expect(results.filter((r) => r === 'ok')).toHaveLength(5);
    const refused = results.filter((r) => r !== 'ok') as RateLimitWaitExceeded[];
    expect(refused).toHaveLength(11);
    for (const err of refused) {
      expect(err).toBeInstanceOf(RateLimitWaitExceeded);
      expect(err.limiter).toBe(`openai|${t.model}|rpm`);
      expect(err.waitedMs).toBeGreaterThanOrEqual(0);
      expect(err.retryAfterMs).toBeGreaterThan(50_000);
      expect(err.retryAfterMs).toBeLessThanOrEqual(60_000);
    }
    expect(await admin.zcard(key(t))).toBe(5);
    expect(await admin.get(`${key(t)}:sum`)).toBe('50');
    for (const k of [key(t), `${key(t)}:sum`]) {
      const ttl = await admin.pttl(k);
      expect(ttl).toBeGreaterThan(55_000);
      expect(ttl).toBeLessThanOrEqual(61_000);
    }
    // A third process agrees.
    await expect(make({ rate_limit_rpm: 5, rate_limit_max_wait_seconds: 0 }).acquire(t, 1)).rejects.toBeInstanceOf(RateLimitWaitExceeded);
  });

  it('TPM is shared, and settle() corrects the stored weight', async () => {
    const a = make({ rate_limit_tpm: 100, rate_limit_max_wait_seconds: 0 });
    const b = make({ rate_limit_tpm: 100, rate_limit_max_wait_seconds: 0 });
    const t = target();
    const permit = await a.acquire(t, 60);
    await expect(b.acquire(t, 50)).rejects.toMatchObject({ limiter: `openai|${t.model}|tpm` });
    await b.acquire(t, 40);
    expect(await admin.get(`${key(t)}:sum`)).toBe('100');
    permit.settle(10);
    await waitFor(async () => (await admin.get(`${key(t)}:sum`)) === '50', 5_000, 'the corrected weight');
    const members = await admin.zrange(key(t), 0, -1);
    expect(members.map((m) => m.split(':').pop()).sort()).toEqual(['10', '40']);
    await b.acquire(t, 50); // fits now: 10 + 40 + 50
    await expect(a.acquire(t, 1)).rejects.toBeInstanceOf(RateLimitWaitExceeded);
  });

  it('queued calls in two processes wait for the shared window (1 s window): 3 per window in total, FIFO per process', async () => {
    const W = 1_000;
    const a = make({ rate_limit_rpm: 3, rate_limit_max_wait_seconds: 60 }, W);
    const b = make({ rate_limit_rpm: 3, rate_limit_max_wait_seconds: 60 }, W);
    const t = target();
    await a.acquire({ provider: 'openai', model: 'warm-up' }, 1); // connect both first
    await b.acquire({ provider: 'openai', model: 'warm-up' }, 1);
    const start = Date.now();
    const order: string[] = [];
    const all = [a, b].flatMap((rl, p) => Array.from({ length: 10 }, (_, i) => rl.acquire(t, 1).then((permit) => (order.push(`${'ab'[p]}${i}`), permit))));
    const at = async (ms: number) => {
      await sleep(start + ms - Date.now());
      return order.length;
    };
    // Mid-window checkpoints (500 ms from any edge).
    expect(await at(W / 2)).toBe(3);
    expect(await at(1.5 * W)).toBe(6);
    expect(await at(2.5 * W)).toBe(9);
    const permits = await Promise.all(all);
    expect(order).toHaveLength(20);
    expect(Date.now() - start).toBeGreaterThanOrEqual(6 * W - 50); // 20 calls at 3 per window: the last at 6 W
    for (const p of 'ab') expect(order.filter((o) => o[0] === p)).toEqual(Array.from({ length: 10 }, (_, i) => `${p}${i}`));
    expect(permits.filter((p) => p.waitedMs > 0).length).toBeGreaterThanOrEqual(14);
  });

  it('the Redis socket does not keep the process alive between calls', async () => {
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const before = sockets();
    const rl = make({ rate_limit_rpm: 100 });
    await rl.acquire(target(), 1);
    await sleep(20);
    expect(sockets()).toBe(before);
  });

  it('Redis killed: falls back to this process’s window (which knows its own sends), warns once, no throw; recovers when it is back', async () => {
    const rl = make({ rate_limit_rpm: 3, rate_limit_max_wait_seconds: 0 });
    const t = target();
    await rl.acquire(t, 1);
    await rl.acquire(t, 1);
    expect(await admin.zcard(key(t))).toBe(2);
    server.kill();
    await sleep(50);
    expect(await outcome(rl.acquire(t, 1))).toBe('ok'); // the 3rd in this process's window
    const fourth = await outcome(rl.acquire(t, 1));
    expect(fourth).toBeInstanceOf(RateLimitWaitExceeded);
    expect(fourth).toMatchObject({ limiter: `openai|${t.model}|rpm` });
    const other = target();
    for (let i = 0; i < 5; i++) expect(await outcome(rl.acquire(other, 1))).toEqual(i < 3 ? 'ok' : expect.any(RateLimitWaitExceeded));
    const warnings = logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/rate limiter: Redis unreachable .*own rate-limit window/);

    await server.restart();
    await admin.ping().catch(() => undefined);
    const fresh = target();
    // Once reconnected, admissions are recorded in Redis again.
    await waitFor(
      async () => {
        await rl.acquire({ provider: 'openai', model: `probe-${randomUUID().slice(0, 6)}` }, 1);
        return logs.some((l) => l.level === 'info' && /reachable again/.test(l.message));
      },
      15_000,
      'the reconnection',
    );
    await rl.acquire(fresh, 1);
    expect(await admin.zcard(key(fresh))).toBe(1);
    expect(logs.filter((l) => l.level === 'warn')).toHaveLength(1);
  });

  it('Redis unreachable from the start: the in-memory window limits, nothing throws', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const rl = make({ rate_limit_rpm: 2, rate_limit_max_wait_seconds: 0 }, undefined, `redis://127.0.0.1:${port}`);
    const t = target();
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await outcome(rl.acquire(t, 1)));
    expect(results.slice(0, 2)).toEqual(['ok', 'ok']);
    expect(results[2]).toBeInstanceOf(RateLimitWaitExceeded);
    expect(logs.filter((l) => l.level === 'warn')).toHaveLength(1);
  });
});
