// RedisBudgetStore specifics: round trips, key layout and expiry, SCAN, several processes against
// one Redis, and Redis going away mid-run.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALENDAR_GRACE_MS, SETTLED_RETENTION_MS } from '../../src/cost/stores/common';
import { RedisBudgetStore } from '../../src/cost/stores/redis';
import { BudgetStoreUnavailableError, type BudgetKey } from '../../src/cost/stores/types';
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

const ns = () => `t-${randomUUID().slice(0, 8)}`;
const dayKey = (id: string, limit: number, windowEndMs: number): BudgetKey => ({ id, limit, windowEndMs, mode: 'check' });

/** Counts the commands the store's client sends (each one is a round trip: the store never pipelines). */
function countCommands(store: RedisBudgetStore): { names: string[] } {
  const client = (store as unknown as { conn: { redis: { sendCommand: (...a: unknown[]) => unknown } } }).conn.redis;
  const original = client.sendCommand.bind(client);
  const log = { names: [] as string[] };
  client.sendCommand = (...args: unknown[]) => {
    log.names.push((args[0] as { name: string }).name);
    return original(...args);
  };
  return log;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('RedisBudgetStore', () => {
  it('reserve, settle, states and markOnce are one round trip each (list: SCAN + one per 200 keys)', async () => {
    const store = new RedisBudgetStore(server.url, { namespace: ns() });
    const now = Date.now();
    const keys = [dayKey('a|x', 1_000, now + 3_600_000), dayKey('b|x', 1_000, now + 3_600_000), { ...dayKey('c|rolling', 1_000, 0), rolling: { durationMs: 60_000, bucketMs: 1_000 } }];
    await store.states(keys, now); // connect (and load the first script on this socket)
    const log = countCommands(store);
    await admin.config('RESETSTAT');

    await store.reserve({ reservationId: 'r1', amount: 10, keys, nowMs: now, expiresAtMs: now + 60_000 });
    expect(log.names).toHaveLength(1);
    await store.settle({ reservationId: 'r1', actual: 9, keys, nowMs: now });
    expect(log.names).toHaveLength(2);
    await store.states(keys, now);
    expect(log.names).toHaveLength(3);
    await store.markOnce(keys[0]!, 'soft', now);
    expect(log.names).toHaveLength(4);
    expect(log.names.every((n) => n === 'evalsha' || n === 'eval')).toBe(true);
    // The server agrees: four script calls and nothing else from us.
    const stats = await admin.info('commandstats');
    const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
    expect(calls('evalsha') + calls('eval')).toBe(4);

    log.names.length = 0;
    await store.list(now);
    expect(log.names).toEqual(['scan', 'evalsha']);

    // After SCRIPT FLUSH the first call pays one extra round trip (EVALSHA → NOSCRIPT → EVAL), then it's one again.
    await admin.script('FLUSH');
    log.names.length = 0;
    expect((await store.reserve({ reservationId: 'r2', amount: 1, keys, nowMs: now, expiresAtMs: now + 60_000 })).ok).toBe(true);
    expect(log.names).toEqual(['evalsha', 'evalsha']);
    await store.settle({ reservationId: 'r2', actual: 1, keys, nowMs: now });
    await store.close();
  });

  it('key layout and expiry: calendar keys until windowEndMs + grace, rolling keys for duration + margin', async () => {
    const namespace = ns();
    const store = new RedisBudgetStore(server.url, { namespace });
    const now = Date.now();
    const end = now + 3 * 3_600_000;
    const cal = dayKey('daily|2026-11-23', 5_000, end);
    const roll: BudgetKey = { id: 'per-minute|rolling', limit: 5_000, windowEndMs: 0, rolling: { durationMs: 60_000, bucketMs: 1_000 }, mode: 'force' };
    await store.reserve({ reservationId: 'r', amount: 100, keys: [cal, roll], nowMs: now, expiresAtMs: now + 30_000 });
    const p = `{${namespace}}:`;
    expect(await admin.hgetall(`${p}b:daily|2026-11-23`)).toEqual({ limit: '5000', wend: String(end), dur: '0', bms: '0', reserved: '100' });
    expect(await admin.hgetall(`${p}r:daily|2026-11-23`)).toEqual({ r: '100' });
    expect(await admin.zrange(`${p}z:daily|2026-11-23`, '0', '-1', 'WITHSCORES')).toEqual(['r', String(now + 30_000)]);
    const calTtl = end + CALENDAR_GRACE_MS - now;
    for (const t of ['b', 'r', 'z']) {
      const ttl = await admin.pttl(`${p}${t}:daily|2026-11-23`);
      expect(ttl).toBeGreaterThan(calTtl - 5_000);
      expect(ttl).toBeLessThanOrEqual(calTtl);
    }
    // Rolling, after a reserve: the duration + margin (60 s + 60 s).
    const rollTtl = await admin.pttl(`${p}b:per-minute|rolling`);
    expect(rollTtl).toBeGreaterThan(115_000);
    expect(rollTtl).toBeLessThanOrEqual(120_000);

    await store.settle({ reservationId: 'r', actual: 80, keys: [cal, roll], nowMs: now });
    expect(await admin.hget(`${p}b:daily|2026-11-23`, 'spent')).toBe('80');
    expect(await admin.hget(`${p}r:daily|2026-11-23`, 'r')).toBe('s'); // the settled marker
    expect(await admin.hgetall(`${p}k:per-minute|rolling`)).toEqual({ [String(Math.floor(now / 1_000) * 1_000)]: '80' });
    // Rolling, after a settle: long enough to remember the settled id.
    const settledTtl = await admin.pttl(`${p}k:per-minute|rolling`);
    expect(settledTtl).toBeGreaterThan(SETTLED_RETENTION_MS + 55_000);
    expect(settledTtl).toBeLessThanOrEqual(SETTLED_RETENTION_MS + 60_000);
    expect(await admin.exists(`${p}k:daily|2026-11-23`)).toBe(0);
    // A window that ended more than the grace period ago is not kept at all.
    const old = dayKey('daily|2026-11-20', 5_000, now - CALENDAR_GRACE_MS - 1);
    await store.settle({ reservationId: 'late', actual: 5, keys: [old], nowMs: now });
    expect(await admin.exists(`${p}b:daily|2026-11-20`, `${p}r:daily|2026-11-20`, `${p}z:daily|2026-11-20`)).toBe(0);
    await store.close();
  });

  it('list() SCANs its own namespace only (glob characters in it are escaped), in batches', async () => {
    const namespace = `weird*[ns]?-${randomUUID().slice(0, 4)}`;
    const store = new RedisBudgetStore(server.url, { namespace });
    const other = new RedisBudgetStore(server.url, { namespace: namespace.replace('*', 'x') });
    const now = Date.now();
    const keys = Array.from({ length: 450 }, (_, i) => dayKey(`tenant|${String(i).padStart(3, '0')}|2026-11-23`, 1_000 + i, now + 3_600_000));
    for (let i = 0; i < keys.length; i += 50) {
      await store.settle({ reservationId: `s${i}`, actual: 3, keys: keys.slice(i, i + 50), nowMs: now });
    }
    await other.settle({ reservationId: 'o', actual: 3, keys: [dayKey('elsewhere', 10, now + 3_600_000)], nowMs: now });
    const listed = await store.list(now);
    expect(listed).toHaveLength(450);
    expect(listed[0]).toEqual({ id: 'tenant|000|2026-11-23', limit: 1_000, windowEndMs: now + 3_600_000, state: { spent: 3, reserved: 0 } });
    expect(listed[449]!.id).toBe('tenant|449|2026-11-23');
    expect((await other.list(now)).map((e) => e.id)).toEqual(['elsewhere']);
    await store.close();
    await other.close();
  });

  it('4 processes × 50 concurrent reserves of A against a limit of 20·A: exactly 20 succeed, never over the limit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-governor-store-'));
    try {
      // Compile the store as it ships (CommonJS), without touching dist/ (other tests may use it).
      const storesDir = join(ROOT, 'src/cost/stores');
      mkdirSync(join(dir, 'cost/stores'), { recursive: true });
      for (const file of readdirSync(storesDir).filter((f) => f.endsWith('.ts'))) {
        const out = ts.transpileModule(readFileSync(join(storesDir, file), 'utf8'), {
          compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        });
        writeFileSync(join(dir, 'cost/stores', file.replace(/\.ts$/, '.js')), out.outputText);
      }
      // The socket discipline the store shares with the other Redis clients.
      mkdirSync(join(dir, 'util'));
      const socket = ts.transpileModule(readFileSync(join(ROOT, 'src/util/redis-connection.ts'), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      });
      writeFileSync(join(dir, 'util/redis-connection.js'), socket.outputText);
      const child = join(dir, 'child.js');
      writeFileSync(
        child,
        `'use strict';
const { RedisBudgetStore } = require('./cost/stores/redis.js');
const [url, namespace, A, limit, windowEndMs, startAt] = process.argv.slice(2);
const key = { id: 'daily-total|shared', limit: Number(limit), windowEndMs: Number(windowEndMs), mode: 'check' };
(async () => {
  const store = new RedisBudgetStore(url, { namespace, commandTimeoutMs: 5000 });
  await store.states([key], Date.now());
  await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
  const results = await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const reservationId = process.pid + '-' + i;
    const r = await store.reserve({ reservationId, amount: Number(A), keys: [key], nowMs: Date.now(), expiresAtMs: Date.now() + 60000 });
    if (r.ok) await store.settle({ reservationId, actual: Number(A), keys: [key], nowMs: Date.now() });
    return r;
  }));
  const seen = Math.max(...results.map((r) => r.states[0].spent + r.states[0].reserved));
  process.stdout.write(JSON.stringify({ ok: results.filter((r) => r.ok).length, seen }));
  await store.close();
})().catch((e) => { console.error(e); process.exit(1); });
`,
      );
      const namespace = ns();
      const A = 7_777_777;
      const limit = 20 * A;
      const windowEndMs = Date.now() + 3_600_000;
      const startAt = Date.now() + 700;
      const watcher = new RedisBudgetStore(server.url, { namespace });
      const key = dayKey('daily-total|shared', limit, windowEndMs);
      let maxSeen = 0;
      let watching = true;
      const watch = (async () => {
        while (watching) {
          const [s] = await watcher.states([key], Date.now());
          maxSeen = Math.max(maxSeen, s!.spent + s!.reserved);
          await new Promise((r) => setImmediate(r));
        }
      })();
      const runs = Array.from(
        { length: 4 },
        () =>
          new Promise<{ ok: number; seen: number }>((resolvePromise, reject) => {
            const proc = spawn(process.execPath, [child, server.url, namespace, String(A), String(limit), String(windowEndMs), String(startAt)], {
              cwd: dir,
              env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            let out = '';
            let err = '';
            proc.stdout.on('data', (c: Buffer) => (out += c));
            proc.stderr.on('data', (c: Buffer) => (err += c));
            proc.on('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(out)) : reject(new Error(`child exited ${code}: ${err}`))));
          }),
      );
      const results = await Promise.all(runs);
      watching = false;
      await watch;
      expect(results.reduce((sum, r) => sum + r.ok, 0)).toBe(20);
      for (const r of results) expect(r.seen).toBeLessThanOrEqual(limit);
      expect(maxSeen).toBeLessThanOrEqual(limit);
      expect(await watcher.states([key], Date.now())).toEqual([{ spent: limit, reserved: 0 }]);
      await watcher.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RedisBudgetStore when Redis goes away', () => {
  it('fails fast with BudgetStoreUnavailableError, reports unavailable once, recovers once after a restart', async () => {
    const own = await startRedis();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const store = new RedisBudgetStore(own.url, { namespace: ns(), commandTimeoutMs: 300, maxReconnectDelayMs: 200 });
    const events: boolean[] = [];
    store.onAvailability((available, error) => {
      events.push(available);
      if (!available) expect(error).toBeInstanceOf(Error);
    });
    try {
      const now = Date.now();
      const key = dayKey('daily|outage', 1_000_000, now + 3_600_000);
      expect((await store.reserve({ reservationId: 'before', amount: 1, keys: [key], nowMs: now, expiresAtMs: now + 60_000 })).ok).toBe(true);

      // Calls in flight when the server dies: each resolves or fails with the store error, none hangs.
      const inflight = Array.from({ length: 50 }, (_, i) =>
        store.reserve({ reservationId: `f${i}`, amount: 1, keys: [key], nowMs: now, expiresAtMs: now + 60_000 }).then(
          () => 'ok',
          (e: unknown) => e,
        ),
      );
      own.kill();
      const t0 = Date.now();
      const outcomes = await Promise.all(inflight);
      for (const outcome of outcomes) {
        if (outcome !== 'ok') expect(outcome).toBeInstanceOf(BudgetStoreUnavailableError);
      }
      expect(Date.now() - t0).toBeLessThan(1_000);

      await waitFor(() => events.length > 0, 3_000, 'the unavailable event');
      // While it is down, every call fails at once.
      for (const call of [
        () => store.reserve({ reservationId: 'down', amount: 1, keys: [key], nowMs: now, expiresAtMs: now + 60_000 }),
        () => store.settle({ reservationId: 'before', actual: 1, keys: [key], nowMs: now }),
        () => store.states([key], now),
        () => store.markOnce(key, 'soft', now),
        () => store.list(now),
      ]) {
        const started = Date.now();
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(BudgetStoreUnavailableError);
        expect((error as BudgetStoreUnavailableError).code).toBe('BUDGET_STORE_UNAVAILABLE');
        expect(Date.now() - started).toBeLessThan(350);
      }
      await new Promise((r) => setTimeout(r, 600)); // several reconnect attempts fail meanwhile
      expect(events).toEqual([false]);

      await own.restart();
      await waitFor(() => events.length > 1, 5_000, 'the recovered event');
      expect(events).toEqual([false, true]);
      const later = Date.now();
      expect(await store.reserve({ reservationId: 'after', amount: 1, keys: [key], nowMs: later, expiresAtMs: later + 60_000 })).toEqual({
        ok: true,
        states: [{ spent: 0, reserved: 1 }], // a fresh server (no persistence)
      });
      expect(await store.markOnce(key, 'soft', later)).toBe(true);
      expect(events).toEqual([false, true]);
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await store.close();
      await own.stop();
    }
  });

  it('an unreachable Redis from the start: calls fail within the command timeout, one unavailable event', async () => {
    const own = await startRedis();
    const url = own.url;
    await own.stop(); // nothing listens on that port now
    const store = new RedisBudgetStore(url, { namespace: ns(), commandTimeoutMs: 200, maxReconnectDelayMs: 100 });
    const events: boolean[] = [];
    store.onAvailability((available) => events.push(available));
    const key = dayKey('daily|never', 100, Date.now() + 3_600_000);
    const started = Date.now();
    await expect(store.states([key], Date.now())).rejects.toBeInstanceOf(BudgetStoreUnavailableError);
    await expect(store.reserve({ reservationId: 'x', amount: 1, keys: [key], nowMs: Date.now(), expiresAtMs: Date.now() + 1_000 })).rejects.toBeInstanceOf(BudgetStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 400));
    expect(events).toEqual([false]);
    await store.close();
    await expect(store.states([key], Date.now())).rejects.toThrow(/closed/);
  });
});
