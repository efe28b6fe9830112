import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsFromRedis } from '../../src/cli/budgets';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startRedis } from '../helpers/redis-server';
import { REPO, runApp } from '../helpers/run-app';

/**
 * Redis under load: 4 processes, each with 200 calls in flight at once on 2 cores, against a
 * healthy local redis-server, with budgets (fail-closed), the rate limiter and the response cache
 * all on Redis. A busy event loop is not an outage: no call is refused as `budget_unavailable`,
 * the cache never reports a failure, and no reservation is left held.
 */
const APP = resolve(REPO, 'test/fixtures/budget-app.cjs');

let sim: Simulator;
let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  sim = await startSimulator({ seed: 5 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

describe('Redis under load', () => {
  it('4 processes × 200 concurrent calls, fail-closed: every call served, no spurious outage, nothing held', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lg-redis-load-'));
    const config = join(dir, 'llm-governor.yaml');
    writeFileSync(config, ['store_failure_mode: closed', 'rate_limit_rpm: 100000', 'cache_enabled: true', 'budgets:', '  - name: load', '    limit_usd: 100', '    thresholds: []', ''].join('\n'));
    const env = {
      SIM_URL: sim.url,
      CALLS: '200',
      MAX_TOKENS: '20',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      LLM_GOVERNOR_REDIS_URL: redis.url,
      LLM_GOVERNOR_CONFIG: config,
    };
    const runs = await Promise.all([0, 1, 2, 3].map((i) => runApp({ script: APP, preload: 'require', env: { ...env, TENANTS: `t${i}` }, timeoutMs: 120_000 })));
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout.split('\n').find((l) => l.startsWith('{"ok"'))!);
      expect(summary.codes, r.stderr).toEqual({});
      expect(summary.ok).toBe(200);
      // The cache's Redis connection reported no failure either.
      expect(r.stderr).not.toMatch(/cache store \(redis\) failed|budget store|unavailable/i);
    }
    const rows = (await rowsFromRedis(redis.url)).filter((r) => r.budget === 'load');
    expect(rows).toHaveLength(1);
    expect(rows[0].spentUsd).toBeGreaterThan(0);
    expect(rows[0].reservedUsd).toBe(0);
  }, 180_000);
});
