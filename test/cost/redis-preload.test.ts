import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsFromRedis } from '../../src/cli/budgets';
import { estimateInputTokens } from '../../src/cost/tokens';
import { PriceTable } from '../../src/cost/prices';
import { worstCaseCost } from '../../src/cost/pricing';
import { operationForPath } from '../../src/operations';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startRedis } from '../helpers/redis-server';
import { REPO, runApp } from '../helpers/run-app';

/**
 * Budgets shared by many processes through a real redis-server, through the preload: they hold
 * across 4 processes; a Redis outage fails open (or closed) without a crash and recovers; a
 * process that dies with a reservation held leaks it only until the reservation expires.
 */
const APP = resolve(REPO, 'test/fixtures/budget-app.cjs');
const PICO = 1e12;
const MESSAGES = [{ role: 'user', content: 'Answer in up to 3 words: Which ocean contains Bouvet Island?' }];

let sim: Simulator;
let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  sim = await startSimulator({ seed: 31 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

function configFile(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'lg-redis-'));
  const file = join(dir, 'llm-governor.yaml');
  writeFileSync(file, yaml);
  return file;
}

function worstCase(maxTokens: number): number {
  const body = { model: 'gpt-4o-mini', messages: MESSAGES, max_tokens: maxTokens };
  const price = PriceTable.bundled().lookup('openai', 'gpt-4o-mini')!.price;
  return worstCaseCost(price, { operation: 'chat', inputTokens: estimateInputTokens(operationForPath('/chat/completions')!, body), maxOutputTokens: maxTokens });
}

const baseEnv = () => ({ SIM_URL: sim.url, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', LLM_GOVERNOR_REDIS_URL: redis.url });
const summaryOf = (stdout: string) => JSON.parse(stdout.split('\n').find((l) => l.startsWith('{"ok"'))!);
const chatRequests = () => sim.requests().filter((r) => r.path.endsWith('/chat/completions')).length;

describe('shared budgets through Redis', () => {
  it('hold across 4 processes: spend within the budget, at least 19 served, rejected calls never sent', async () => {
    const limitUsd = (20.5 * worstCase(100)) / PICO;
    const config = configFile(`budgets:\n  - name: shared-4p\n    limit_usd: ${limitUsd}\n    thresholds: []\n`);
    sim.reset();
    const runs = await Promise.all([0, 1, 2, 3].map(() => runApp({ script: APP, preload: 'require', env: { ...baseEnv(), CALLS: '50', MAX_TOKENS: '100', LLM_GOVERNOR_CONFIG: config } })));
    const summaries = runs.map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return summaryOf(r.stdout);
    });
    const ok = summaries.reduce((a, s) => a + s.ok, 0);
    const rejected = summaries.reduce((a, s) => a + s.rejected, 0);
    expect(summaries.every((s) => s.other === 0 && s.allApiErrors)).toBe(true);
    expect(ok).toBeGreaterThanOrEqual(19);
    expect(ok + rejected).toBe(200);
    expect(chatRequests()).toBe(ok);
    const rows = (await rowsFromRedis(redis.url)).filter((r) => r.budget === 'shared-4p');
    expect(rows).toHaveLength(1);
    expect(rows[0].spentUsd).toBeLessThanOrEqual(limitUsd);
    expect(rows[0].spentUsd).toBeGreaterThan(0);
    expect(rows[0].reservedUsd).toBe(0);
  });

  it('a process that dies holding a reservation leaks it only until it expires', async () => {
    const config = configFile(`reservation_ttl_seconds: 5\nbudgets:\n  - name: death\n    limit_usd: 10\n`);
    let child: import('node:child_process').ChildProcess | undefined;
    const run = runApp({ script: APP, preload: 'require', env: { ...baseEnv(), CALLS: '1', FAULT: 'hang', LLM_GOVERNOR_CONFIG: config }, onSpawn: (c) => (child = c) });
    // Wait until the hanging call is in flight (its reservation held), then kill the process hard.
    for (let i = 0; i < 200 && !sim.requests().some((r) => r.headers['x-simulator-fault'] === 'hang'); i++) await new Promise((r) => setTimeout(r, 25));
    const held = (await rowsFromRedis(redis.url)).find((r) => r.budget === 'death')!;
    expect(held.reservedUsd).toBeGreaterThan(0);
    child!.kill('SIGKILL');
    const killedAt = Date.now();
    expect((await run).signal).toBe('SIGKILL');
    await new Promise((r) => setTimeout(r, Math.max(0, 5_500 - (Date.now() - killedAt))));
    const after = (await rowsFromRedis(redis.url)).find((r) => r.budget === 'death')!;
    expect(after.reservedUsd).toBe(0);
    expect(after.spentUsd).toBe(0);
  }, 60_000);

  it('fails open while Redis is down, without a crash or unhandled rejection, and recovers', async () => {
    const config = configFile(`budgets:\n  - name: outage\n    limit_usd: 50\n`);
    sim.reset();
    const run = runApp({ script: APP, preload: 'require', env: { ...baseEnv(), CALLS: '60', SEQUENTIAL: '1', PACE_MS: '50', LLM_GOVERNOR_CONFIG: config } });
    const waitFor = async (n: number) => {
      for (let i = 0; i < 400 && chatRequests() < n; i++) await new Promise((r) => setTimeout(r, 25));
    };
    await waitFor(10);
    redis.kill();
    await waitFor(25);
    await redis.restart();
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const s = summaryOf(r.stdout);
    expect(s.ok).toBe(60);
    expect(s.other).toBe(0);
    expect(r.stderr).toMatch(/budget store unreachable .*failing open/);
    expect(r.stderr).toMatch(/budget store reachable again/);
    expect(r.stderr).not.toMatch(/Unhandled|unhandled/);
    const rows = (await rowsFromRedis(redis.url)).filter((x) => x.budget === 'outage');
    expect(rows[0]?.spentUsd ?? 0).toBeGreaterThan(0); // spend after recovery is counted again
  }, 60_000);

  it('fails closed when configured: calls are refused with a 503 APIError while Redis is down', async () => {
    const config = configFile(`store_failure_mode: closed\nbudgets:\n  - name: closed\n    limit_usd: 50\n`);
    redis.kill();
    try {
      sim.reset();
      const r = await runApp({ script: APP, preload: 'require', env: { ...baseEnv(), CALLS: '3', SEQUENTIAL: '1', LLM_GOVERNOR_CONFIG: config } });
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r.stdout);
      expect(s.ok).toBe(0);
      expect(s.codes).toEqual({ budget_unavailable: 3 });
      expect(s.statuses).toEqual({ 503: 3 });
      expect(s.allApiErrors).toBe(true);
      expect(chatRequests()).toBe(0);
    } finally {
      await redis.restart();
    }
  }, 60_000);
});
