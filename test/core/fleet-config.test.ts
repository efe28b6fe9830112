import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetKeys } from '../../src/live-config/fleet-doc';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { parsePrometheusText } from '../../src/util/prometheus-text';
import { startLiveApp, type LiveApp } from '../helpers/live-app';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';
import { freePort, REPO } from '../helpers/run-app';

/**
 * The fleet config, from outside: four running processes on one Redis, the real CLI pushing a
 * config file; each process applies it within seconds (over its own file and environment), shows
 * the version in llm_governor_config_info and config_loaded, and ignores an invalid push.
 */
let sim: Simulator;
let redis: RedisTestServer;
const dir = mkdtempSync(join(tmpdir(), 'lg-fleet-'));
const CLI = resolve(REPO, 'dist/cli/main.js');
beforeAll(async () => {
  sim = await startSimulator({ seed: 23 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, 'config', ...args], { encoding: 'utf8', env: { ...process.env, LLM_GOVERNOR_REDIS_URL: redis.url }, timeout: 30_000 });
const file = (name: string, config: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof config === 'string' ? config : JSON.stringify(config));
  return path;
};
type Answer = { results: { ok: boolean; code: string | null }[] };

describe('fleet config through Redis', () => {
  it('4 processes pick up a pushed config; an invalid push is ignored by all of them; a clear hands them back their own', async () => {
    const ports = await Promise.all([0, 1, 2, 3].map(() => freePort()));
    const apps: LiveApp[] = [];
    const audits = [0, 1, 2, 3].map((i) => join(dir, `audit-${i}.jsonl`));
    try {
      for (const [i, audit] of audits.entries()) {
        apps.push(
          await startLiveApp({
            SIM_URL: sim.url,
            LLM_GOVERNOR_REDIS_URL: redis.url,
            LLM_GOVERNOR_DAILY_BUDGET_USD: '10',
            LLM_GOVERNOR_AUDIT_FILE: audit,
            OTEL_TRACES_EXPORTER: 'none',
            OTEL_LOGS_EXPORTER: 'none',
            OTEL_EXPORTER_PROMETHEUS_PORT: String(ports[i]),
            OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
          }),
        );
      }
      const callEach = async (tag: string) =>
        Promise.all(
          apps.map((app) => {
            app.send(`call 1 ${tag}`);
            return app.next<Answer>((o) => o.tag === tag);
          }),
        );
      const configInfo = async () =>
        (await Promise.all(ports.map(async (port) => parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())))).flat().filter((s) => s.name === 'llm_governor_config_info');
      const codes = (answers: Answer[]) => answers.map((a) => (a.results[0].ok ? 'ok' : a.results[0].code));
      expect(codes(await callEach('before'))).toEqual(['ok', 'ok', 'ok', 'ok']);
      for (const s of await configInfo()) expect(s.labels).toMatchObject({ version: 'local', origin: 'env' });

      // The CLI refuses what no process could use, and pushes nothing.
      const bad = cli('push', file('bad.json', { daily_budget_usd: -5, budgets: [{ name: 'x', limit_usd: 1, window: 'fortnight' }], redis_url: 'redis://elsewhere:6379' }));
      expect(bad.status).toBe(1);
      expect(bad.stderr).toMatch(/daily_budget_usd: .*above 0/);
      expect(bad.stderr).toMatch(/budgets\[0\]/);
      expect(bad.stderr).toMatch(/redis_url: takes effect only when a process starts/);
      expect(cli('show').stdout).toMatch(/no fleet config/);

      // A pushed limit far below one call: over each process's environment, every call is refused.
      const pushed = cli('push', file('fleet.yaml', 'daily_budget_usd: 0.000001\nrate_limit_rpm: 600\n'));
      expect(pushed.status, pushed.stderr).toBe(0);
      const version = Number(/version (\d+)/.exec(pushed.stdout)![1]);
      expect(pushed.stdout).toMatch(/settings: daily_budget_usd, rate_limit_rpm/);
      for (const app of apps) {
        const events = await app.auditUntil((ev) => ev.some((e) => e.unmapped.kind === 'config_loaded' && /fleet version \d+/.test(e.message ?? '')));
        expect(events.find((e) => /fleet version/.test(e.message ?? ''))!.message).toMatch(new RegExp(`fleet version ${version} pushed by .*fleet\\.yaml`));
      }
      expect(codes(await callEach('pushed'))).toEqual(Array(4).fill('budget_exceeded'));
      // One series per process: the config in force, not the one before it.
      const info = await configInfo();
      expect(info).toHaveLength(4);
      for (const s of info) expect(s.labels).toMatchObject({ version: String(version), origin: 'fleet', sha256: expect.stringMatching(/^[0-9a-f]{16}$/) });

      // A document no CLI would push, written by hand: every process rejects it whole and keeps the last.
      const keys = fleetKeys();
      const raw = new Redis(redis.url);
      try {
        const next = await raw.incr(keys.version);
        await raw.set(keys.doc, JSON.stringify({ version: next, origin: 'hand', pushed_at: new Date().toISOString(), settings: { daily_budget_usd: -1, rate_limit_rpm: 'many' } }));
        await raw.publish(keys.channel, String(next));
        for (const app of apps) {
          const events = await app.auditUntil((ev) => ev.some((e) => e.unmapped.kind === 'config_rejected'));
          const rejected = events.find((e) => e.unmapped.kind === 'config_rejected')!;
          expect(rejected.status_detail).toContain(`fleet config (version ${next}): daily_budget_usd`);
          expect(rejected.status_detail).toContain('rate_limit_rpm');
          expect(rejected.message).toMatch(/is not applied, the configuration in force stays/);
        }
        expect(codes(await callEach('invalid'))).toEqual(Array(4).fill('budget_exceeded'));
        const still = await configInfo();
        expect(still).toHaveLength(4);
        for (const s of still) expect(s.labels.version).toBe(String(version));
      } finally {
        raw.disconnect();
      }

      // Withdrawn: each process is back on its own environment's budget.
      expect(cli('clear').status).toBe(0);
      for (const app of apps) await app.auditUntil((ev) => ev.filter((e) => e.unmapped.kind === 'config_loaded').length >= 3);
      expect(codes(await callEach('cleared'))).toEqual(['ok', 'ok', 'ok', 'ok']);
      for (const app of apps) expect(app.child.exitCode).toBeNull();
    } finally {
      await Promise.all(apps.map((a) => a.stop()));
    }
  });

  it('a process that started while Redis was away subscribes once it is back, and hears the next push', async () => {
    redis.kill();
    await new Promise((r) => setTimeout(r, 300));
    const audit = join(dir, 'audit-late.jsonl');
    const app = await startLiveApp({
      SIM_URL: sim.url,
      LLM_GOVERNOR_REDIS_URL: redis.url,
      LLM_GOVERNOR_AUDIT_FILE: audit,
      // No periodic check within the test: only the subscription can bring the push.
      LLM_GOVERNOR_FLEET_CONFIG_CHECK_SECONDS: '3600',
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_METRICS_EXPORTER: 'none',
    });
    try {
      await redis.restart();
      // ioredis reconnects within its backoff (at most 2 s): then the push reaches it.
      await new Promise((r) => setTimeout(r, 3_000));
      const pushed = cli('push', file('late.json', { rate_limit_rpm: 120 }));
      expect(pushed.status, pushed.stderr).toBe(0);
      const version = /version (\d+)/.exec(pushed.stdout)![1];
      const events = await app.auditUntil((ev) => ev.some((e) => new RegExp(`fleet version ${version} `).test(e.message ?? '')), 10_000);
      expect(events.filter((e) => e.unmapped.kind === 'config_loaded').at(-1)!.status_detail).toMatch(/changed: rate_limit_rpm/);
    } finally {
      await app.stop();
    }
  });
});
