import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditKind } from '../../src/audit/ocsf';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { configFile, readEvents, tempDir } from '../audit/audit-preload-helpers';
import { runObserved, sumOf } from '../helpers/observed-run';
import { startRedis } from '../helpers/redis-server';
import { REPO, runApp } from '../helpers/run-app';
import { zoneAtLocalHour } from '../helpers/zones';

/**
 * Spend forecasts through the preload: an unmodified app whose spend rate, early in its day,
 * projects past `forecast_alert` while the spend itself is far below the threshold. One
 * `budget_forecast_crossed` event, the crossing and the projection on the scrape; through Redis,
 * one event across two processes.
 */
const APP = resolve(REPO, 'test/fixtures/budget-app.cjs');

let sim: Simulator;
let redis: Awaited<ReturnType<typeof startRedis>>;
beforeAll(async () => {
  sim = await startSimulator({ seed: 16 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

/** Local time 02:00 to 03:00 (1/12 to 1/8 of the day passed); limit $1e-4: a few gpt-4o-mini calls spend a few percent of it, and project past 90% by the end of the day. */
function budgetYaml(name: string): string {
  return `budgets:\n  - name: ${name}\n    limit_usd: 0.0001\n    window: day\n    timezone: ${zoneAtLocalHour(2)}\n    thresholds: [0.8]\n    forecast_alert: 0.9\n    action: alert_only\n`;
}

const kindsIn = (file: string) => readEvents(file).map((e) => e.unmapped.kind as AuditKind);

describe('spend forecasts through the preload', () => {
  it('a spend rate that projects past forecast_alert early in the window: one event, the crossing and the projection on the scrape', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit.jsonl');
    const r = await runObserved({
      script: APP,
      env: { SIM_URL: sim.url, CALLS: '4', SEQUENTIAL: '1', MAX_TOKENS: '20', LLM_GOVERNOR_AUDIT_FILE: file, LLM_GOVERNOR_CONFIG: configFile(dir, budgetYaml('fc')) },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const events = readEvents(file);
    const crossed = events.filter((e) => e.unmapped.kind === 'budget_forecast_crossed');
    expect(crossed).toHaveLength(1);
    expect(crossed[0].unmapped).toMatchObject({ budget: 'fc', decision: 'alert', budget_state: { threshold: 0.9, limit_usd: 0.0001 } });
    expect(events.filter((e) => e.unmapped.kind === 'budget_threshold_crossed')).toHaveLength(0);
    expect(r.stderr).toMatch(/budget "fc" is projected to spend \$[\d.]+ by the end of window/);

    const budget = { llm_governor_budget: 'fc' };
    const spent = sumOf(r.samples, 'llm_governor_budget_spent', budget);
    const projected = sumOf(r.samples, 'llm_governor_budget_forecast_usd', budget);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThan(0.8 * 0.0001);
    expect(projected).toBeGreaterThanOrEqual(0.9 * 0.0001);
    // Linear over the elapsed day: 8 to 12 times the spend, 02:00 to 03:00 local.
    expect(projected / spent).toBeGreaterThan(7.9);
    expect(projected / spent).toBeLessThan(12.1);
    const exhaustion = r.samples.find((s) => s.name === 'llm_governor_budget_exhaustion_seconds' && s.labels.llm_governor_budget === 'fc');
    expect(exhaustion?.value).toBeGreaterThan(0);
    expect(exhaustion!.value).toBeLessThan(22 * 3600);
    expect(sumOf(r.samples, 'llm_governor_budget_threshold_crossings_total', { ...budget, crossing: 'forecast', threshold: '0.9' })).toBe(1);
  });

  it('through Redis: one budget_forecast_crossed across 2 processes', async () => {
    const dir = tempDir();
    const config = configFile(dir, budgetYaml('fc-shared'));
    const files = [join(dir, 'a.jsonl'), join(dir, 'b.jsonl')];
    const runs = await Promise.all(
      files.map((f) =>
        runApp({
          script: APP,
          preload: 'require',
          env: {
            SIM_URL: sim.url,
            CALLS: '2',
            SEQUENTIAL: '1',
            MAX_TOKENS: '20',
            OTEL_TRACES_EXPORTER: 'none',
            OTEL_METRICS_EXPORTER: 'none',
            OTEL_LOGS_EXPORTER: 'none',
            LLM_GOVERNOR_REDIS_URL: redis.url,
            LLM_GOVERNOR_AUDIT_FILE: f,
            LLM_GOVERNOR_CONFIG: config,
          },
        }),
      ),
    );
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const kinds = files.flatMap(kindsIn);
    expect(kinds.filter((k) => k === 'budget_forecast_crossed')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'call_completed')).toHaveLength(4);

    // The CLI reads the shared store: the projection and when the limit would be reached.
    const cli = spawnSync(process.execPath, [resolve(REPO, 'dist/cli/main.js'), 'budgets'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', LLM_GOVERNOR_REDIS_URL: redis.url, LLM_GOVERNOR_CONFIG: config },
    });
    expect(cli.status, cli.stderr).toBe(0);
    const header = cli.stdout.split('\n').find((l) => l.startsWith('budget '))!;
    const row = cli.stdout.split('\n').find((l) => l.startsWith('fc-shared '))!;
    expect(header).toMatch(/projected \$.*exhausted at/);
    const [, , , spent, , , projected] = row.split(/\s+/);
    expect(Number(projected) / Number(spent)).toBeGreaterThan(7.9);
    expect(row, cli.stdout).toMatch(/\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/);
  });
});
