import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { REPO, runApp } from '../helpers/run-app';

/**
 * One typo in a nested config entry costs that value and nothing else: through the preload, a
 * typo in a price override leaves the env budget, the audit file and fail-closed in force; the
 * typo is named once by its full path. With fail-closed, the app refuses to start instead.
 */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 4 });
});
afterAll(async () => sim?.close());

const app = resolve(REPO, 'test/fixtures/resilience-app.cjs');

function files() {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-small-'));
  const config = join(dir, 'config.json');
  writeFileSync(config, JSON.stringify({ prices: { 'gpt-4o-mini': { inptu: 0.15 } } }));
  return { config, audit: join(dir, 'audit.jsonl') };
}

const quiet = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

describe('a config that fails small', () => {
  it('a typo in prices: named once; the env budget still blocks, the audit file still writes', async () => {
    const f = files();
    sim.reset();
    const r = await runApp({
      script: app,
      preload: 'require',
      env: { ...quiet, SIM_URL: sim.url, CALLS: '1', LLM_GOVERNOR_CONFIG: f.config, LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001', LLM_GOVERNOR_AUDIT_FILE: f.audit },
    });
    expect(r.code, r.stderr).toBe(0);
    const named = r.stderr.split('\n').filter((l) => l.includes('prices.gpt-4o-mini.inptu'));
    expect(named).toHaveLength(1);
    expect(named[0]).toMatch(/unknown key/);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
    expect(out.seen[0]).toMatchObject({ ok: false, error: 'BudgetExceededError', code: 'budget_exceeded' });
    expect(sim.requests().filter((q) => q.path.endsWith('/chat/completions'))).toHaveLength(0);
    const kinds = readFileSync(f.audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).unmapped.kind);
    expect(kinds).toEqual(expect.arrayContaining(['config_rejected', 'config_loaded', 'budget_block']));
  });

  it('the same typo with LLM_GOVERNOR_FAIL_CLOSED=true: the app refuses to start, and says why', async () => {
    const f = files();
    sim.reset();
    const r = await runApp({
      script: app,
      preload: 'require',
      env: { ...quiet, SIM_URL: sim.url, CALLS: '1', LLM_GOVERNOR_CONFIG: f.config, LLM_GOVERNOR_FAIL_CLOSED: 'true', LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/prices\.gpt-4o-mini\.inptu: unknown key/);
    expect(sim.requests()).toHaveLength(0);
  });
});
