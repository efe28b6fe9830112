import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBudgetStore } from '../../src/cost/stores/redis';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { parsePrometheusText } from '../../src/util/prometheus-text';
import { startLiveApp, writeConfigFile } from '../helpers/live-app';
import { sumOf } from '../helpers/observed-run';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';
import { freePort } from '../helpers/run-app';
import { reservationPico } from '../helpers/worst-case';

/**
 * A reload in the middle of 100 calls at once, budgets in memory and in Redis: the calls in
 * flight settle on the budgets they reserved on, none twice and none left reserved; the calls
 * after the reload never meet the budget the reload removed.
 */
let sim: Simulator;
let redis: RedisTestServer;
const dir = mkdtempSync(join(tmpdir(), 'lg-reload-load-'));
beforeAll(async () => {
  sim = await startSimulator({ seed: 22, latencyMs: 400 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Result = { ok: boolean; code: string | null; message: string };

describe.each([
  { store: 'memory', env: (): Record<string, string> => ({}) },
  { store: 'redis', env: (): Record<string, string> => ({ LLM_GOVERNOR_REDIS_URL: redis.url }) },
])('a reload under 100 calls at once, budgets in $store', ({ store, env }) => {
  it('no reservation leaked or settled twice; no call after the reload refused by the budget it removed', async () => {
    // "doomed" holds 30 worst cases: of 100 calls at once, the other 70 are refused by it.
    const worst = reservationPico({ messages: [{ role: 'user', content: 'hello wave1' }], maxTokens: 16 }) / 1e12;
    const file = join(dir, `${store}.json`);
    const write = (config: unknown) => writeConfigFile(file, config);
    const keptV1 = { name: `kept-${store}`, limit_usd: 10, window: 'day', action: 'block' };
    write({ budgets: [keptV1, { name: `doomed-${store}`, limit_usd: 30.5 * worst, window: 'day', action: 'block' }] });
    const metrics = await freePort();
    const app = await startLiveApp({
      SIM_URL: sim.url,
      LLM_GOVERNOR_CONFIG: file,
      LLM_GOVERNOR_CONFIG_WATCH: 'false',
      LLM_GOVERNOR_FLEET_CONFIG: 'false',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metrics),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      ...env(),
    });
    try {
      app.send('start 100 wave1');
      // While the first 100 are in flight (the simulator answers after ~400 ms): the new config.
      await new Promise((r) => setTimeout(r, 100));
      write({ budgets: [{ ...keptV1, limit_usd: 20 }] });
      app.send('reload');
      const { reload } = await app.next((o) => o.reload);
      expect(reload).toMatchObject({ applied: true, trigger: 'api', changed: ['budgets'] });
      app.send('call 100 wave2');
      const [wave1, wave2] = [await app.next((o) => o.tag === 'wave1', 60_000), await app.next((o) => o.tag === 'wave2', 60_000)] as { results: Result[] }[];

      const refused1 = wave1.results.filter((r) => !r.ok);
      expect(wave1.results.filter((r) => r.ok)).toHaveLength(30);
      for (const r of refused1) expect(r).toMatchObject({ code: 'budget_exceeded', message: expect.stringContaining(`doomed-${store}`) });
      expect(wave2.results.filter((r) => !r.ok)).toEqual([]);

      const samples = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text());
      const cost = sumOf(samples, 'llm_governor_cost_total');
      expect(cost).toBeGreaterThan(0);
      const kept = { llm_governor_budget: `kept-${store}` };
      // Every call that ran is in the spend once: the 30 admitted before the reload and the 100 after.
      expect(sumOf(samples, 'llm_governor_budget_spent', kept)).toBeCloseTo(cost, 9);
      expect(sumOf(samples, 'llm_governor_budget_reserved', kept)).toBe(0);
      expect(sumOf(samples, 'llm_governor_budget_limit', kept)).toBe(20);
      expect(samples.filter((s) => s.labels.llm_governor_budget === `doomed-${store}` && !s.name.endsWith('_total'))).toEqual([]);
      if (store === 'redis') {
        // The shared store itself: nothing reserved on any key, the spend as the scrape says.
        const shared = new RedisBudgetStore(redis.url);
        try {
          const entries = await shared.list(Date.now());
          expect(entries.length).toBeGreaterThan(0);
          for (const e of entries) expect(e.state.reserved).toBe(0);
          expect(entries.find((e) => e.id.startsWith(`kept-${store}|`))!.state.spent / 1e12).toBeCloseTo(cost, 9);
        } finally {
          await shared.close();
        }
      }
    } finally {
      await app.stop();
    }
  });
});
