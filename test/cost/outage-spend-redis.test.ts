import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBudgetStore } from '../../src/cost/stores/redis';
import { picoToUsd } from '../../src/cost/money';
import { startBillingUpstream } from '../helpers/billing-upstream';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';
import { REPO, runApp } from '../helpers/run-app';

/**
 * No spend is lost in a fail-open outage: calls sent while Redis was unreachable are let through,
 * as documented, and their cost is recorded once it is back. After a 1.5 s freeze of a real
 * redis-server mid-run, the spend Redis holds equals what the upstream billed, to the picodollar,
 * and nothing stays reserved.
 */
let redis: RedisTestServer;
let upstream: Awaited<ReturnType<typeof startBillingUpstream>>;
beforeAll(async () => {
  redis = await startRedis();
  upstream = await startBillingUpstream({ delayMs: 150 });
});
afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
});

describe('a fail-open Redis outage', () => {
  it('the spend of calls sent during it is recorded when Redis is back', async () => {
    const run = runApp({
      script: resolve(REPO, 'test/fixtures/budget-media-app.cjs'),
      preload: 'require',
      env: {
        BILLING_URL: upstream.url,
        MODE: 'short',
        CALLS: '60',
        CONCURRENCY: '4',
        LLM_GOVERNOR_DAILY_BUDGET_USD: '100',
        LLM_GOVERNOR_REDIS_URL: redis.url,
        LLM_GOVERNOR_STORE_FAILURE_MODE: 'open',
        // A 1.5 s freeze is within the default 2 s command timeout (no outage at all): a short
        // timeout makes it one, with calls sent unreserved while Redis is frozen.
        LLM_GOVERNOR_REDIS_COMMAND_TIMEOUT_MS: '300',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
      },
      timeoutMs: 60_000,
    });
    // Mid-run: once the app has been served a few calls (Redis connected, spend recorded).
    while (upstream.calls < 8) await new Promise((r) => setTimeout(r, 20));
    await redis.pause(1_500);
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/budget store unreachable/);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.ok).toBe(60);
    const store = new RedisBudgetStore(redis.url);
    try {
      const entries = await store.list(Date.now());
      const daily = entries.filter((e) => e.id.startsWith('daily'));
      expect(daily).toHaveLength(1);
      expect(picoToUsd(daily[0]!.state.spent)).toBeCloseTo(upstream.billedUsd, 9);
      expect(daily[0]!.state.reserved).toBe(0);
    } finally {
      await store.close();
    }
  }, 90_000);
});
