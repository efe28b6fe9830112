// ResponseCache over a real redis-server: sharing between instances (processes), key layout, TTL,
// Redis going away and coming back, and a process that never closes the cache still exits.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { diag, DiagLogLevel, metrics } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import ts from 'typescript';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type ConfigInput } from '../../src/config/schema';
import { cacheKey, ResponseCache } from '../../src/guards/cache';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';

const ROOT = resolve(__dirname, '../..');

let server: RedisTestServer;
let admin: Redis;
beforeAll(async () => {
  server = await startRedis();
  admin = new Redis(server.url);
  admin.on('error', () => undefined);
});
afterAll(async () => {
  admin?.disconnect();
  await server?.stop();
});

const open: ResponseCache[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  diag.disable();
});

function make(input: ConfigInput = {}): ResponseCache {
  const cache = new ResponseCache({
    config: configSchema.parse({ cache_enabled: true, redis_url: server.url, ...input }),
    meter: metrics.getMeter('test'),
    redis: { commandTimeoutMs: 300, maxReconnectDelayMs: 100 },
  });
  open.push(cache);
  return cache;
}

const uniqueKey = () => cacheKey({ provider: 'openai', path: '/chat/completions', body: { model: 'm', messages: [{ role: 'user', content: randomUUID() }] } })!;
const ok = (body: string) => ({ status: 200, headers: { 'content-type': 'application/json' }, body });

function captureWarnings(): string[] {
  const warnings: string[] = [];
  const ignore = () => undefined;
  diag.setLogger({ error: ignore, warn: (m: string) => warnings.push(m), info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN);
  return warnings;
}

async function waitFor<T>(probe: () => Promise<T>, check: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('ResponseCache (redis)', () => {
  it('auto picks Redis when redis_url is set; memory wins when asked for', () => {
    expect(make().storeKind).toBe('redis');
    expect(make({ cache_store: 'memory' }).storeKind).toBe('memory');
  });

  it('two instances share entries (the first call right after construction waits for the connection)', async () => {
    const a = make({ cache_ttl_seconds: 300 });
    const b = make({ cache_ttl_seconds: 300 });
    const key = uniqueKey();
    const before = Date.now();
    await a.set(key, { status: 200, headers: { 'Content-Type': 'application/json', 'x-request-id': 'req_9', 'set-cookie': 'c=1' }, body: '{"id":"chatcmpl-1"}' });
    const got = await b.get(key);
    expect(got).toEqual({
      status: 200,
      headers: { 'content-type': 'application/json', 'x-request-id': 'req_9' },
      body: '{"id":"chatcmpl-1"}',
      storedAt: expect.any(Number),
    });
    expect(got!.storedAt).toBeGreaterThanOrEqual(before);
    expect(got!.storedAt).toBeLessThanOrEqual(Date.now());
    expect(await a.get(uniqueKey())).toBeUndefined();

    // Layout: a hash-tagged prefix and the digest key (no prompt text), a JSON value, a PX expiry.
    const name = `{llm-governor}:cache:${key}`;
    expect(await admin.keys(`{llm-governor}:cache:${key.slice(0, 10)}*`)).toEqual([name]);
    expect(JSON.parse((await admin.get(name))!)).toEqual(got);
    const pttl = await admin.pttl(name);
    expect(pttl).toBeGreaterThan(299_000);
    expect(pttl).toBeLessThanOrEqual(300_000);
  });

  it('honours the TTL', async () => {
    const cache = make({ cache_ttl_seconds: 1 });
    const key = uniqueKey();
    await cache.set(key, ok('{"n":1}'));
    expect(await admin.pttl(`{llm-governor}:cache:${key}`)).toBeGreaterThan(900);
    expect((await cache.get(key))?.body).toBe('{"n":1}');
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await cache.get(key)).toBeUndefined();
    expect(await admin.exists(`{llm-governor}:cache:${key}`)).toBe(0);
  });

  it('treats an unreadable value as a miss', async () => {
    const cache = make();
    const key = uniqueKey();
    await admin.set(`{llm-governor}:cache:${key}`, 'not json', 'PX', 60_000);
    expect(await cache.get(key)).toBeUndefined();
    await admin.set(`{llm-governor}:cache:${key}`, JSON.stringify({ status: 500, headers: {}, body: '', storedAt: 1 }), 'PX', 60_000);
    expect(await cache.get(key)).toBeUndefined();
  });

  it('does not store oversized bodies in Redis', async () => {
    const cache = make();
    const key = uniqueKey();
    await cache.set(key, ok('x'.repeat(2 * 1024 * 1024 + 1)));
    expect(await admin.exists(`{llm-governor}:cache:${key}`)).toBe(0);
  });

  it('Redis killed: get is a miss, set does not throw, one warning; back after a restart', async () => {
    const warnings = captureWarnings();
    const cache = make({ cache_ttl_seconds: 300 });
    const key = uniqueKey();
    await cache.set(key, ok('{"before":true}'));
    expect((await cache.get(key))?.body).toBe('{"before":true}');
    expect(warnings).toEqual([]);

    server.kill();
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      await expect(cache.get(key)).resolves.toBeUndefined();
      await expect(cache.set(key, ok('{"during":true}'))).resolves.toBeUndefined();
    }
    // Fast failures (no offline queue): ten operations well within one command timeout each.
    expect(Date.now() - started).toBeLessThan(10 * 300);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^llm-governor: response cache store \(redis\) failed/);

    await server.restart();
    // The restarted server is empty (no persistence): once reconnected, a set lands and is read back.
    await waitFor(
      async () => {
        await cache.set(key, ok('{"after":true}'));
        return cache.get(key);
      },
      (entry) => entry?.body === '{"after":true}',
      10_000,
      'the cache to work again after the restart',
    );
    expect(warnings).toHaveLength(1);

    // A second outage warns again (once).
    server.kill();
    await cache.get(key);
    await cache.get(key);
    expect(warnings).toHaveLength(2);
    await server.restart();
    await waitFor(
      () => admin.ping().catch(() => ''),
      (p) => p === 'PONG',
      10_000,
      'the admin connection',
    );
  });

  it('never throws from close, twice', async () => {
    const cache = make();
    await cache.close();
    await expect(cache.close()).resolves.toBeUndefined();
    await expect(cache.get(uniqueKey())).resolves.toBeUndefined();
    await expect(cache.set(uniqueKey(), ok('{}'))).resolves.toBeUndefined();
  });
});

describe('RedisCacheStore in a process of its own', () => {
  /** Runs a child that uses the store and never closes it; resolves with its exit code, output and run time. */
  async function runChild(script: string, url: string): Promise<{ code: number | null; out: string; err: string; ms: number }> {
    const dir = mkdtempSync(join(tmpdir(), 'llm-governor-cache-'));
    try {
      // Compile the store as it ships (CommonJS), without touching dist/.
      mkdirSync(join(dir, 'guards/cache'), { recursive: true });
      mkdirSync(join(dir, 'util'));
      for (const file of ['guards/cache/redis-store.ts', 'guards/cache/store.ts', 'util/redis-connection.ts']) {
        const out = ts.transpileModule(readFileSync(join(ROOT, 'src', file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        });
        writeFileSync(join(dir, file.replace(/\.ts$/, '.js')), out.outputText);
      }
      const child = join(dir, 'child.js');
      writeFileSync(child, `'use strict';\nconst { RedisCacheStore } = require('./guards/cache/redis-store.js');\nconst url = process.argv[2];\n${script}`);
      const started = Date.now();
      return await new Promise((resolvePromise, reject) => {
        const proc = spawn(process.execPath, [child, url], { env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
        proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
        proc.on('error', reject);
        proc.on('exit', (code) => {
          clearTimeout(timer);
          resolvePromise({ code, out, err, ms: Date.now() - started });
        });
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a process that used the cache and never closed it exits on its own; its pending SET lands first', async () => {
    const key = `child-${randomUUID()}`;
    const r = await runChild(
      `const store = new RedisCacheStore(url);
(async () => {
  await store.set(${JSON.stringify(key)}, 'v1', 60000);
  process.stdout.write(String(await store.get(${JSON.stringify(key)})));
  store.set(${JSON.stringify(key)}, 'v2', 60000); // not awaited: in flight at the end of the script
})();`,
      server.url,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('v1');
    expect(r.ms).toBeLessThan(5_000);
    expect(await admin.get(`{llm-governor}:cache:${key}`)).toBe('v2');
  });

  it('a process whose Redis is down exits on its own too (reconnect timers do not hold it)', async () => {
    const r = await runChild(
      `const store = new RedisCacheStore(url, { commandTimeoutMs: 300 });
(async () => {
  await new Promise((r) => setTimeout(r, 300)); // let it fail and start reconnecting
  try { await store.get('k'); process.stdout.write('no error'); } catch (e) { process.stdout.write('failed'); }
})();`,
      'redis://127.0.0.1:1',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe('failed');
    expect(r.ms).toBeLessThan(5_000);
  });
});

describe('stale answers (cache_serve_stale_seconds) in Redis', () => {
  it('the PX expiry covers TTL + window; past the TTL a lookup misses, the stale read still finds it', async () => {
    let now = Date.now();
    const cache = new ResponseCache({
      config: configSchema.parse({ cache_enabled: true, redis_url: server.url, cache_ttl_seconds: 300, cache_serve_stale_seconds: 600 }),
      meter: metrics.getMeter('test'),
      now: () => now,
      redis: { commandTimeoutMs: 300, maxReconnectDelayMs: 100 },
    });
    open.push(cache);
    const key = uniqueKey();
    await cache.set(key, ok('{"id":"a"}'));
    const pttl = await admin.pttl(`{llm-governor}:cache:${key}`);
    expect(pttl).toBeGreaterThan(899_000);
    expect(pttl).toBeLessThanOrEqual(900_000);
    expect((await cache.get(key))?.body).toBe('{"id":"a"}');
    now += 301_000; // past the TTL, within the window
    expect(await cache.get(key)).toBeUndefined();
    expect((await cache.getStale(key))?.body).toBe('{"id":"a"}');
    now += 600_000; // past the window too
    expect(await cache.getStale(key)).toBeUndefined();
  });

  it('without a window, nothing is read stale and the expiry is the TTL', async () => {
    const cache = make({ cache_ttl_seconds: 300 });
    const key = uniqueKey();
    await cache.set(key, ok('{"id":"b"}'));
    expect(await admin.pttl(`{llm-governor}:cache:${key}`)).toBeLessThanOrEqual(300_000);
    expect(await cache.getStale(key)).toBeUndefined();
  });
});
