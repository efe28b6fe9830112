import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { parsePrometheusText, type Sample } from '../../src/util/prometheus-text';
import { startLiveApp, writeConfigFile, type LiveApp } from '../helpers/live-app';
import { sumOf } from '../helpers/observed-run';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';
import { freePort, REPO } from '../helpers/run-app';

/**
 * Live reload, from outside: a running app under the preload gets a new config by SIGHUP, by a
 * change of its LLM_GOVERNOR_CONFIG file and by reload(); what a reload replaces applies to the
 * calls after it, a budget keeps its spend, a removed budget's series go, and an invalid config is
 * rejected whole while the old one stays.
 */
let sim: Simulator;
let redis: RedisTestServer;
const dir = mkdtempSync(join(tmpdir(), 'lg-reload-'));
beforeAll(async () => {
  sim = await startSimulator({ seed: 21, latencyMs: 150 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});
const apps: LiveApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.stop()));
});

let n = 0;
const writeConfig = writeConfigFile;

async function launch(config: unknown, env: Record<string, string> = {}, script?: string) {
  const file = join(dir, `config-${++n}.json`);
  writeConfig(file, config);
  const audit = join(dir, `audit-${n}.jsonl`);
  const metrics = await freePort();
  const app = await startLiveApp(
    {
      SIM_URL: sim.url,
      LLM_GOVERNOR_CONFIG: file,
      LLM_GOVERNOR_AUDIT_FILE: audit,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metrics),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      ...env,
    },
    script,
  );
  apps.push(app);
  const scrape = async (): Promise<Sample[]> => parsePrometheusText(await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text());
  return { app, file, scrape, kinds: async () => (await app.auditUntil(() => true)).map((e) => e.unmapped.kind) };
}

const budget = (name: string, limit: number, extra: Record<string, unknown> = {}) => ({ name, limit_usd: limit, window: 'day', action: 'block', ...extra });
const loadedAfter = (count: number) => (events: { unmapped: { kind: string } }[]) => events.filter((e) => e.unmapped.kind === 'config_loaded').length > count;

describe('live reload', () => {
  it('SIGHUP: a changed limit applies to the next call, the spend carries over, a removed budget’s series disappear', async () => {
    const { app, file, scrape } = await launch({ budgets: [budget('team', 10), budget('gone', 10, { forecast_alert: 0.9 })] }, { LLM_GOVERNOR_CONFIG_WATCH: 'false' });
    app.send('call 3 first');
    const first = await app.next((o) => o.tag === 'first');
    expect(first.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    const before = await scrape();
    const spent = sumOf(before, 'llm_governor_budget_spent', { llm_governor_budget: 'team' });
    expect(spent).toBeGreaterThan(0);
    expect(before.some((s) => s.labels.llm_governor_budget === 'gone')).toBe(true);

    // Only SIGHUP reloads here (the file watch is off): a limit below what was spent refuses.
    writeConfig(file, { budgets: [budget('team', spent / 2)] });
    app.child.kill('SIGHUP');
    const events = await app.auditUntil(loadedAfter(1));
    const loaded = events.filter((e) => e.unmapped.kind === 'config_loaded').at(-1)!;
    expect(loaded.message).toMatch(/reloaded \(sighup\)/);
    expect(loaded.status_detail).toMatch(/changed: budgets/);
    app.send('call 1 after');
    const after = await app.next((o) => o.tag === 'after');
    expect(after.results[0]).toMatchObject({ ok: false, code: 'budget_exceeded', isAPIError: true });
    expect(after.results[0].message).toMatch(/team/);

    const samples = await scrape();
    expect(sumOf(samples, 'llm_governor_budget_spent', { llm_governor_budget: 'team' })).toBeCloseTo(spent, 12);
    expect(sumOf(samples, 'llm_governor_budget_limit', { llm_governor_budget: 'team' })).toBeCloseTo(spent / 2, 12);
    expect(samples.filter((s) => s.labels.llm_governor_budget === 'gone' && !s.name.endsWith('_total')).map((s) => s.name)).toEqual([]);
    expect(app.child.exitCode).toBeNull();
  });

  it('a change of the file reloads it (debounced); an invalid one is rejected whole, naming each value, and the old config stays', async () => {
    const { app, file, scrape } = await launch({ budgets: [budget('team', 10)], rate_limit_rpm: 1000 });
    app.send('call 1 warm');
    await app.next((o) => o.tag === 'warm');
    writeConfig(file, { budgets: [budget('team', 20)], rate_limit_rpm: 500 });
    const events = await app.auditUntil(loadedAfter(1));
    expect(events.filter((e) => e.unmapped.kind === 'config_loaded').at(-1)!.message).toMatch(/reloaded \(file\)/);
    expect(sumOf(await scrape(), 'llm_governor_budget_limit', { llm_governor_budget: 'team' })).toBe(20);

    // Two bad values and one good change: nothing of it applies.
    writeConfig(file, { budgets: [budget('team', -1)], rate_limit_rpm: 'lots', cache_enabled: true });
    const rejected = (await app.auditUntil((ev) => ev.some((e) => e.unmapped.kind === 'config_rejected'))).find((e) => e.unmapped.kind === 'config_rejected')!;
    expect(rejected.status_detail).toContain('budgets[0]');
    expect(rejected.status_detail).toContain('rate_limit_rpm');
    expect(rejected.message).toMatch(/the configuration in force stays/);
    expect(rejected.message).toMatch(/expected/);
    expect(app.stderr()).toMatch(/rejected, the configuration in force stays/);
    expect(sumOf(await scrape(), 'llm_governor_budget_limit', { llm_governor_budget: 'team' })).toBe(20);
    app.send('call 2 still');
    const still = await app.next((o) => o.tag === 'still');
    expect(still.results.every((r: { ok: boolean }) => r.ok)).toBe(true);
    // The cache stayed off: the same request twice went twice.
    expect(sim.requests().filter((r) => JSON.stringify(r.body ?? '').includes('hello still'))).toHaveLength(2);
  });

  it('an app with its own SIGHUP handler keeps it: ours is not installed (said once), and the file still reloads', async () => {
    const { app, file, scrape } = await launch({ budgets: [budget('team', 10)] });
    app.send('call 1 warm');
    await app.next((o) => o.tag === 'warm');
    app.send('own-sighup');
    await app.next((o) => o.ownSighup);
    app.child.kill('SIGHUP');
    await app.next((o) => o.hup === true);
    app.child.kill('SIGHUP');
    await app.next((o) => o.hup === true);
    expect(app.stderr().match(/the app handles SIGHUP itself/g)).toHaveLength(1);
    expect((await app.auditUntil(() => true)).filter((e) => e.unmapped.kind === 'config_loaded')).toHaveLength(1);
    writeConfig(file, { budgets: [budget('team', 30)] });
    await app.auditUntil(loadedAfter(1));
    expect(sumOf(await scrape(), 'llm_governor_budget_limit', { llm_governor_budget: 'team' })).toBe(30);
    expect(app.child.exitCode).toBeNull();
  });

  it('a worker thread reloads with its process on SIGHUP', async () => {
    const { app, file } = await launch({ budgets: [budget('team', 10)] }, { LLM_GOVERNOR_CONFIG_WATCH: 'false' }, resolve(REPO, 'test/fixtures/reload-thread-app.cjs'));
    app.send('call 1 before');
    expect((await app.next((o) => o.tag === 'before')).results[0].ok).toBe(true);
    writeConfig(file, { budgets: [budget('team', 0.000001)] });
    app.child.kill('SIGHUP');
    // The main thread and the thread each reload (each has its own runtime): two config_loaded after start's two.
    await app.auditUntil((ev) => ev.filter((e) => e.unmapped.kind === 'config_loaded' && /reloaded \(sighup\)/.test(e.message ?? '')).length >= 2);
    app.send('call 1 after');
    expect((await app.next((o) => o.tag === 'after')).results[0]).toMatchObject({ ok: false, code: 'budget_exceeded' });
  });

  it('the audit sinks follow a reload: events after it go to the new file, none to the old one', async () => {
    const first = join(dir, `audit-a-${++n}.jsonl`);
    const second = join(dir, `audit-b-${n}.jsonl`);
    const { app, file } = await launch({ audit_file: first }, { LLM_GOVERNOR_AUDIT_FILE: '' });
    app.send('call 1 one');
    await app.next((o) => o.tag === 'one');
    writeConfig(file, { audit_file: second });
    const kindsIn = (path: string) =>
      existsSync(path)
        ? readFileSync(path, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l).unmapped.kind)
        : [];
    for (let i = 0; i < 200 && !kindsIn(second).includes('config_loaded'); i++) await new Promise((r) => setTimeout(r, 50));
    app.send('call 1 two');
    await app.next((o) => o.tag === 'two');
    for (let i = 0; i < 200 && !kindsIn(second).includes('call_completed'); i++) await new Promise((r) => setTimeout(r, 50));
    expect(kindsIn(first)).toEqual(['config_loaded', 'call_completed']);
    expect(kindsIn(second)).toEqual(['config_loaded', 'call_completed']);
  });

  it('a reload is not held back by other files changing in the same folder (an audit file, a log)', async () => {
    const { app, file, scrape } = await launch({ budgets: [budget('team', 10)] });
    app.send('call 1 warm');
    await app.next((o) => o.tag === 'warm');
    // Another file in the folder changes every 50 ms, for as long as the test waits.
    const noise = setInterval(() => writeFileSync(join(dir, 'noise.log'), String(Date.now())), 50);
    try {
      writeConfig(file, { budgets: [budget('team', 40)] });
      await app.auditUntil(loadedAfter(1), 3_000);
    } finally {
      clearInterval(noise);
    }
    expect(sumOf(await scrape(), 'llm_governor_budget_limit', { llm_governor_budget: 'team' })).toBe(40);
  });

  it('what was said once stays said once across a reload (the unknown price of a model)', async () => {
    const { app, file } = await launch({ budgets: [budget('team', 10)] }, { MODEL: 'gpt-unpriced-reload' });
    app.send('call 1 one');
    await app.next((o) => o.tag === 'one');
    writeConfig(file, { budgets: [budget('team', 11)] });
    await app.auditUntil(loadedAfter(1));
    app.send('call 1 two');
    await app.next((o) => o.tag === 'two');
    const events = await app.auditUntil((ev) => ev.filter((e) => e.unmapped.kind === 'call_completed').length >= 2);
    expect(events.filter((e) => e.unmapped.kind === 'unknown_price')).toHaveLength(1);
    expect(app.stderr().match(/no price for openai\/gpt-unpriced-reload/g)).toHaveLength(1);
  });
});
