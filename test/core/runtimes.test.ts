import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePrometheusText, type Sample } from '../../src/util/prometheus-text';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startOtlpReceiver } from '../helpers/otlp';
import { startRedis, type RedisTestServer } from '../helpers/redis-server';
import { freePort, REPO, runApp, telemetryEnv } from '../helpers/run-app';
import { sumOf } from '../helpers/observed-run';
import { reservationPico } from '../helpers/worst-case';

/**
 * However the app is run, its calls reach one scrape endpoint: a node:cluster primary and its
 * workers, PM2's cluster mode (where PM2 is the primary), and worker threads. The member that
 * binds the port serves; every other relays its metrics to it, served with a `worker` label;
 * nobody else tries the port (no EADDRINUSE on stderr).
 */
let sim: Simulator;
let redis: RedisTestServer;
beforeAll(async () => {
  sim = await startSimulator({ seed: 16 });
  redis = await startRedis();
});
afterAll(async () => {
  await sim?.close();
  await redis?.stop();
});

const CLUSTER_APP = resolve(REPO, 'test/fixtures/cluster-app.cjs');
const THREAD_APP = resolve(REPO, 'test/fixtures/thread-app.cjs');
const CHILD_APP = resolve(REPO, 'test/fixtures/child-process-app.cjs');
const calls = (samples: Sample[]) => samples.filter((s) => s.name === 'gen_ai_client_operation_duration_count');
const scrapeOf = async (port: number) => parsePrometheusText(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());
const askApp = async (appPort: number, n: number) => {
  const out: { worker?: number | string; error?: string }[] = [];
  for (let i = 0; i < n; i++) out.push(await (await fetch(`http://127.0.0.1:${appPort}/`)).json());
  return out;
};

/** Waits until the batched OTLP exports stop coming (threads end without a flush when terminated). */
async function exportsSettled(raw: unknown[]): Promise<void> {
  let seen = -1;
  for (const started = Date.now(); Date.now() - started < 3_000 && raw.length !== seen; ) {
    seen = raw.length;
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** Runs a long-lived app under the preload; `whileUp` runs once it prints READY, then its stdin closes. */
async function whileRunning(script: string, env: Record<string, string>, whileUp: (ports: { app: number; metrics: number }) => Promise<void>) {
  const otlp = await startOtlpReceiver();
  const ports = { app: await freePort(), metrics: await freePort() };
  try {
    const run = await runApp({
      script,
      preload: 'require',
      env: { SIM_URL: sim.url, APP_PORT: String(ports.app), ...telemetryEnv(otlp.url, ports.metrics), ...env },
      onReady: async (child) => {
        await whileUp(ports);
        await exportsSettled(otlp.raw);
        child.stdin!.end();
      },
    });
    await new Promise((r) => setTimeout(r, 100));
    return { ...run, spans: [...otlp.spans], logs: [...otlp.logs] };
  } finally {
    await otlp.close();
  }
}

describe('node:cluster', () => {
  it("one endpoint, on the primary, serves every worker's calls with a worker label; spans, cost and audit events from each", async () => {
    let samples: Sample[] = [];
    let answers: Awaited<ReturnType<typeof askApp>> = [];
    const run = await whileRunning(CLUSTER_APP, { WORKERS: '2' }, async (ports) => {
      answers = await askApp(ports.app, 6);
      samples = await scrapeOf(ports.metrics);
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe(''); // no EADDRINUSE, no warning
    expect(new Set(answers.map((a) => a.worker)).size).toBe(2);
    const series = calls(samples);
    expect(series.reduce((a, s) => a + s.value, 0)).toBe(6);
    expect(new Set(series.map((s) => s.labels.worker))).toEqual(new Set(['1', '2']));
    for (const w of ['1', '2']) expect(sumOf(samples, 'gen_ai_client_operation_duration_count', { worker: w })).toBe(answers.filter((a) => String(a.worker) === w).length);
    expect(sumOf(samples, 'llm_governor_cost_total')).toBeGreaterThan(0);
    const chats = run.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(chats).toHaveLength(6);
    for (const s of chats) expect(s.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(run.logs.filter((l) => l.attributes?.['llm_governor.audit.kind'] === 'call_completed')).toHaveLength(6);
  });

  it("a blocking budget and a breaker opening on 500s, in each worker: the SDK's own APIError with our code, nothing more sent", async () => {
    const refused = async (env: Record<string, string>) => {
      let answers: Awaited<ReturnType<typeof askApp>> = [];
      const before = sim.requests().length;
      const run = await whileRunning(CLUSTER_APP, { WORKERS: '2', ...env }, async (ports) => {
        answers = await askApp(ports.app, 6);
      });
      expect(run.code, run.stderr).toBe(0);
      return { answers, sent: sim.requests().length - before, failed: run.logs.filter((l) => l.attributes?.['llm_governor.audit.kind'] === 'call_failed').length };
    };
    const budget = await refused({ LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' });
    expect(budget.answers.map((a) => [a.isAPIError, a.status, a.error])).toEqual(Array(6).fill([true, 429, 'budget_exceeded']));
    expect(budget.sent).toBe(0);
    expect(budget.failed).toBe(6);
    sim.setFaults([{ kind: '500', match: { path: '/v1/' } }]);
    try {
      // Each worker has its own breaker (threshold 2): its first two calls fail with the 500, the third is refused.
      const breaker = await refused({ LLM_GOVERNOR_BREAKER_FAILURES: '2', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60' });
      expect(breaker.answers.map((a) => a.error).sort()).toEqual(['500', '500', '500', '500', 'circuit_open', 'circuit_open']);
      expect(breaker.sent).toBe(4);
      expect(breaker.failed).toBe(6);
    } finally {
      sim.setFaults([]);
    }
  });

  it('with Redis, the workers hold one budget, as one process would; without it, each worker has its own', async () => {
    // A budget of 1.5 reservations: what one process serves of it depends on what each call really costs.
    const limitUsd = (1.5 * reservationPico({ messages: [{ role: 'user', content: 'hi' }], maxTokens: 1 })) / 1e12;
    const served = async (workers: number, env: Record<string, string> = {}) => {
      let answers: Awaited<ReturnType<typeof askApp>> = [];
      const run = await whileRunning(CLUSTER_APP, { WORKERS: String(workers), MAX_TOKENS: '1', LLM_GOVERNOR_DAILY_BUDGET_USD: String(limitUsd), ...env }, async (ports) => {
        answers = await askApp(ports.app, 8);
      });
      expect(run.code, run.stderr).toBe(0);
      for (const a of answers) if (a.error) expect(a.error).toBe('budget_exceeded');
      return answers.filter((a) => !a.error).length;
    };
    const alone = await served(1);
    expect(alone).toBeGreaterThan(0);
    expect(alone).toBeLessThan(4);
    expect(await served(2, { LLM_GOVERNOR_REDIS_URL: redis.url })).toBe(alone);
    expect(await served(2)).toBe(2 * alone);
  });
});

describe('PM2 cluster mode', () => {
  const home = mkdtempSync(join(tmpdir(), 'lg-pm2-'));
  const pm2 = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [resolve(REPO, 'node_modules/pm2/bin/pm2'), ...args], { env: { ...process.env, PM2_HOME: home, ...env }, encoding: 'utf8', timeout: 60_000 });
  afterAll(() => {
    pm2(['kill']);
    rmSync(home, { recursive: true, force: true });
  });

  it("the instances' calls on one endpoint, labelled by instance; when the serving instance restarts, another takes the port over", async () => {
    const otlp = await startOtlpReceiver();
    const ports = { app: await freePort(), metrics: await freePort() };
    try {
      const env = { SIM_URL: sim.url, APP_PORT: String(ports.app), ...telemetryEnv(otlp.url, ports.metrics) };
      const started = pm2(['start', CLUSTER_APP, '-i', '2', '--name', 'governed', '--node-args', `--require ${resolve(REPO, 'dist/register.js')}`], env);
      expect(started.status, started.stderr).toBe(0);
      const until = async <T>(what: () => Promise<T>, ok: (v: T) => boolean): Promise<T> => {
        for (let i = 0; ; i++) {
          try {
            const v = await what();
            if (ok(v) || i > 120) return v;
          } catch {
            if (i > 120) throw new Error('never came up');
          }
          await new Promise((r) => setTimeout(r, 250));
        }
      };
      // Ask until both instances have answered: PM2 balances only over instances already listening.
      const answered = new Map<string, number>();
      for (let asked = 0; answered.size < 2 && asked < 200; asked++) {
        const [a] = await until(
          () => askApp(ports.app, 1),
          () => true,
        );
        answered.set(String(a.worker), (answered.get(String(a.worker)) ?? 0) + 1);
      }
      const total = [...answered.values()].reduce((a, n) => a + n, 0);
      const first = calls(
        await until(
          () => scrapeOf(ports.metrics),
          (s) => calls(s).reduce((a, x) => a + x.value, 0) === total,
        ),
      );
      expect(Object.fromEntries(first.map((s) => [s.labels.worker, s.value]))).toEqual(Object.fromEntries(answered));
      // The instance that serves (the first to start) restarts: the other keeps its count and serves now.
      expect(pm2(['restart', '0']).status).toBe(0);
      const after = calls(
        await until(
          () => scrapeOf(ports.metrics),
          (s) => calls(s).some((x) => x.labels.worker === '1'),
        ),
      );
      expect(after.find((s) => s.labels.worker === '1')?.value).toBe(first.find((s) => s.labels.worker === '1')?.value);
      const logs = pm2(['logs', '--nostream', '--lines', '50', '--err']);
      expect(logs.stdout).not.toMatch(/EADDRINUSE|llm-governor/);
    } finally {
      pm2(['delete', 'all']);
      await otlp.close();
    }
  });
});

describe('worker_threads', () => {
  it("a thread's calls reach the process's one endpoint, and no thread tries the port", async () => {
    let samples: Sample[] = [];
    const run = await whileRunning(THREAD_APP, { THREADS: '2', CALLS: '2' }, async (ports) => {
      samples = await scrapeOf(ports.metrics);
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const series = calls(samples);
    expect(series.reduce((a, s) => a + s.value, 0)).toBe(4);
    expect(new Set(series.map((s) => s.labels.worker))).toEqual(new Set(['thread-1', 'thread-2']));
    expect(run.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat')).toHaveLength(4);
    expect(run.logs.filter((l) => l.attributes?.['llm_governor.audit.kind'] === 'call_completed')).toHaveLength(4);
  });
});

describe('worker_threads: refusals', () => {
  it("a blocking budget and a breaker opening on 500s, in each thread: the SDK's own APIError with our code, nothing more sent", async () => {
    const refused = async (env: Record<string, string>) => {
      const before = sim.requests().length;
      const run = await whileRunning(THREAD_APP, { THREADS: '2', CALLS: '3', ...env }, async () => undefined);
      expect(run.code, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout.split('\n').find((l) => l.startsWith('{'))!);
      return { errors: out.results.map((r: { errors: unknown[] }) => r.errors), sent: sim.requests().length - before };
    };
    const budget = await refused({ LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' });
    expect(budget.errors).toEqual(Array(2).fill(Array(3).fill({ isAPIError: true, status: 429, code: 'budget_exceeded' })));
    expect(budget.sent).toBe(0);
    sim.setFaults([{ kind: '500', match: { path: '/v1/' } }]);
    try {
      const breaker = await refused({ LLM_GOVERNOR_BREAKER_FAILURES: '2', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60' });
      for (const errors of breaker.errors) expect(errors.map((e: { status: number; code: string | null }) => e.code ?? e.status)).toEqual([500, 500, 'circuit_open']);
      expect(breaker.sent).toBe(4);
    } finally {
      sim.setFaults([]);
    }
  });
});

describe('a child process under the same preload', () => {
  it("relays to its parent's endpoint instead of warning that the port is taken", async () => {
    let samples: Sample[] = [];
    const run = await whileRunning(CHILD_APP, { CALLS: '2' }, async (ports) => {
      samples = await scrapeOf(ports.metrics);
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const child = JSON.parse(run.stdout.split('\n').find((l) => l.startsWith('{'))!).child;
    expect(calls(samples).map((s) => [s.labels.worker, s.value])).toEqual([[`pid-${child}`, 2]]);
  });
});
