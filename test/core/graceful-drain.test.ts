import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';
import { freePort, REPO, runApp } from '../helpers/run-app';

/**
 * A graceful drain after SIGTERM (the Kubernetes pattern) keeps every guard working: an app whose
 * own handler serves on for 2 s sees its calls admitted and blocked exactly as in a run without
 * the signal, with memory budgets, Redis fail-open and Redis fail-closed; /metrics answers during
 * the drain; a stream that finishes during it is audited as completed with the provider's usage.
 */
let sim: Simulator;
let redis: RedisTestServer;
beforeAll(async () => {
  sim = await startSimulator({ seed: 13, chunkDelayMs: 4 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

const app = resolve(REPO, 'test/fixtures/drain-app.cjs');

async function run(signal: boolean, env: Record<string, string>) {
  sim.reset();
  await redis.restart(); // an empty store for every run
  const port = await freePort();
  const file = join(mkdtempSync(join(tmpdir(), 'drain-')), 'audit.jsonl');
  let scrapeDuringDrain = '';
  const r = await runApp({
    script: app,
    preload: 'require',
    env: {
      SIM_URL: sim.url,
      SIGNAL: signal ? 'sigterm' : 'none',
      LLM_GOVERNOR_DAILY_BUDGET_USD: '0.0004',
      LLM_GOVERNOR_AUDIT_FILE: file,
      OTEL_TRACES_EXPORTER: 'none',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_PORT: String(port),
      ...env,
    },
    onReady: async (child) => {
      if (!signal) return;
      await new Promise((res) => setTimeout(res, 600));
      child.kill('SIGTERM');
      await new Promise((res) => setTimeout(res, 500));
      scrapeDuringDrain = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    },
    timeoutMs: 30_000,
  });
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  const events = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  return { out, events, scrapeDuringDrain, stderr: r.stderr };
}

const configs: Array<[string, Record<string, string>]> = [
  ['memory budgets', {}],
  ['Redis, fail-open', { LLM_GOVERNOR_REDIS_URL: '', LLM_GOVERNOR_STORE_FAILURE_MODE: 'open' }],
  ['Redis, fail-closed', { LLM_GOVERNOR_REDIS_URL: '', LLM_GOVERNOR_STORE_FAILURE_MODE: 'closed' }],
];

describe('a graceful drain after SIGTERM', () => {
  for (const [name, env] of configs) {
    it(`${name}: calls after the signal are admitted and blocked as without it`, async () => {
      const e = { ...env, ...(env.LLM_GOVERNOR_REDIS_URL !== undefined ? { LLM_GOVERNOR_REDIS_URL: redis.url } : {}) };
      const control = await run(false, e);
      const drained = await run(true, e);
      const oks = (o: string[]) => o.filter((x) => x === 'ok').length;
      // The budget runs out during the run, in both.
      expect(control.out.outcomes).toContain('budget_exceeded');
      expect(drained.out.outcomes).toContain('budget_exceeded');
      expect(new Set(drained.out.outcomes)).toEqual(new Set(['ok', 'budget_exceeded']));
      expect(oks(drained.out.outcomes)).toBe(oks(control.out.outcomes));
      // /metrics answered during the drain, with the calls made so far.
      expect(drained.scrapeDuringDrain).toMatch(/gen_ai_client_operation_duration_count/);
      // The stream in flight finished during the drain, and is on record as completed, with real usage.
      expect(drained.out.stream).toMatch(/^completed \d+/);
      const streamEvent = drained.events.find((ev) => ev.unmapped.kind === 'call_completed' && ev.message_context?.completion_tokens > 20);
      expect(streamEvent, JSON.stringify(drained.events.map((ev) => [ev.unmapped.kind, ev.message_context?.completion_tokens, ev.unmapped.estimated]))).toBeDefined();
      expect(streamEvent.unmapped.estimated).toBe(false);
      expect(drained.events.filter((ev) => ev.status_detail === 'incomplete')).toEqual([]);
    }, 60_000);
  }
});
