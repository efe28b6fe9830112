import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBillingUpstream } from '../helpers/billing-upstream';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';
import { REPO, runApp } from '../helpers/run-app';

/**
 * A reservation lives as long as its call. With a 5 s reservation TTL and calls that take 8 s,
 * two processes sharing budgets through a real Redis keep trying all along; no reservation may
 * lapse while its call runs, so what the upstream bills stays within the limit.
 */
let redis: RedisTestServer;
let upstream: Awaited<ReturnType<typeof startBillingUpstream>>;
beforeAll(async () => {
  redis = await startRedis();
  upstream = await startBillingUpstream({ delayMs: 8_000 });
});
afterAll(async () => {
  await upstream?.close();
  await redis?.stop();
});

const app = resolve(REPO, 'test/fixtures/budget-media-app.cjs');

describe('reservations renewed while their calls run', () => {
  it('5 s TTL, 8 s calls, 2 processes on Redis: billed within the limit', async () => {
    // One call's worst case on gpt-4o with max_tokens 50 is about $0.0006: room for about 8.
    const limit = 0.005;
    const env = {
      BILLING_URL: upstream.url,
      MODE: 'short',
      CALLS: '40',
      CONCURRENCY: '8',
      REFUSED_PAUSE_MS: '400',
      LLM_GOVERNOR_DAILY_BUDGET_USD: String(limit),
      LLM_GOVERNOR_REDIS_URL: redis.url,
      LLM_GOVERNOR_RESERVATION_TTL_SECONDS: '5',
      LLM_GOVERNOR_STORE_FAILURE_MODE: 'closed',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
    };
    const runs = await Promise.all([runApp({ script: app, preload: 'require', env, timeoutMs: 90_000 }), runApp({ script: app, preload: 'require', env, timeoutMs: 90_000 })]);
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const outs = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').pop()!));
    expect(outs.reduce((a, o) => a + o.ok, 0)).toBeGreaterThan(0);
    expect(outs.reduce((a, o) => a + o.other, 0)).toBe(0);
    expect(upstream.billedUsd).toBeLessThanOrEqual(limit);
  }, 120_000);
});
