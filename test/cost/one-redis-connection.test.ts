import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startRedis } from '../helpers/redis-server';
import { REPO, runApp } from '../helpers/run-app';

/**
 * One Redis connection per process: an app with budgets, a rate limit and the response cache
 * all on Redis holds one socket to it for its commands, as `CLIENT LIST` on the server shows while
 * it runs; the fleet config's subscriber holds one of its own (pub/sub takes its socket).
 */
let sim: Simulator;
let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  sim = await startSimulator({ seed: 9 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

describe('one Redis connection per process', () => {
  it('budgets, rate-limit windows and the cache share one socket', async () => {
    const admin = new Redis(redis.url);
    admin.on('error', () => undefined);
    let clients = -1;
    let subscribers = -1;
    try {
      const r = await runApp({
        script: resolve(REPO, 'test/fixtures/budget-app.cjs'),
        preload: 'require',
        env: {
          SIM_URL: sim.url,
          CALLS: '5',
          MAX_TOKENS: '20',
          WAIT_FOR_SCRAPE: '1',
          OTEL_TRACES_EXPORTER: 'none',
          OTEL_METRICS_EXPORTER: 'none',
          OTEL_LOGS_EXPORTER: 'none',
          LLM_GOVERNOR_REDIS_URL: redis.url,
          LLM_GOVERNOR_DAILY_BUDGET_USD: '10',
          LLM_GOVERNOR_RATE_LIMIT_RPM: '1000',
          LLM_GOVERNOR_CACHE: 'true',
        },
        onReady: async (child) => {
          const list = String(await admin.call('CLIENT', 'LIST'));
          // Every line but our own admin connection's is the app's.
          const apps = list
            .trim()
            .split('\n')
            .filter((l) => !/ cmd=client\|list /.test(l) && !/ cmd=client /.test(l));
          subscribers = apps.filter((l) => / sub=1 /.test(l)).length;
          clients = apps.length - subscribers;
          child.stdin!.end();
        },
      });
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"ok"'))!);
      expect(summary.ok).toBe(5);
      expect(clients).toBe(1);
      expect(subscribers).toBe(1);
    } finally {
      admin.disconnect();
    }
  });
});
