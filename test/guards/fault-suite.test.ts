// The fault suite: an unmodified app under the preload, with every guard on, against a provider
// that flaps (seeded 429 storms, 5xx bursts, resets, cut-off and malformed bodies), 100 calls at
// once. What must hold: the app never crashes and never sees an unhandled rejection; every error
// is an APIError; the breaker opens and fallback serves while it is open; budgets stay exact
// (nothing reserved at the end, spend equals the cost of what was served).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import type { FaultRule } from '../../src/simulator/types';
import { runObserved, sumOf } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

const APP = resolve(REPO, 'test/fixtures/resilience-app.cjs');
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 2026, chunkDelayMs: 1 });
});
afterAll(async () => sim?.close());

function configFile(config: object): string {
  const file = join(mkdtempSync(join(tmpdir(), 'llm-governor-faults-')), 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

async function flapping(faults: FaultRule[], env: Record<string, string>) {
  sim.reset();
  sim.setFaults(faults);
  try {
    const r = await runObserved({ script: APP, env: { SIM_URL: sim.url, ...env }, timeoutMs: 90_000 });
    expect(r.code, r.stderr).toBe(0);
    return { ...r, seen: r.out.seen as any[], unhandled: r.out.unhandled as number, chats: sim.requests().filter((q) => q.path.endsWith('/chat/completions')) };
  } finally {
    sim.setFaults([]);
  }
}

function expectBudgetsExact(samples: Parameters<typeof sumOf>[0]) {
  // Nothing is held once every call ended, and what was spent is exactly what was charged.
  expect(sumOf(samples, 'llm_governor_budget_reserved')).toBe(0);
  const spent = sumOf(samples, 'llm_governor_budget_spent', { llm_governor_budget: 'daily' });
  expect(spent).toBeGreaterThan(0);
  expect(spent).toBeCloseTo(sumOf(samples, 'llm_governor_cost_total'), 9);
}

describe('fault suite', () => {
  it('100 concurrent calls through a flapping provider, with fallback, breaker, retries and budgets', async () => {
    const openai = { provider: 'openai' as const };
    const r = await flapping(
      [
        { kind: '429', probability: 0.15, retryAfterSeconds: 0, match: openai },
        { kind: '500', probability: 0.15, match: openai },
        { kind: '503', probability: 0.05, match: openai },
        { kind: 'reset', probability: 0.05, match: openai },
        { kind: 'truncate', probability: 0.05, match: openai },
        { kind: 'malformed', probability: 0.05, match: openai },
      ],
      {
        CALLS: '100',
        CONCURRENCY: '100',
        LLM_GOVERNOR_CONFIG: configFile({
          daily_budget_usd: 5,
          breaker_failures: 5,
          breaker_error_percentage: 20,
          breaker_reset_seconds: 60,
          max_retries: 2,
          retry_max_delay_seconds: 0.05,
          fallbacks: [{ primary: { provider: 'openai', model: 'gpt-4o-mini' }, backups: [{ provider: 'x_ai', model: 'grok-3-mini' }] }],
        }),
        XAI_API_KEY: 'xai-test-fault-suite-0123456789',
        XAI_API_ENDPOINT: sim.xaiBaseURL,
      },
    );
    expect(r.unhandled).toBe(0);
    expect(r.seen).toHaveLength(100);
    for (const s of r.seen) if (!s.ok) expect(s, JSON.stringify(s)).toMatchObject({ apiError: true });
    // The flapping primary opened its breaker; from then on the backup served.
    expect(sumOf(r.samples, 'llm_governor_breaker_transitions_total', { to: 'open' })).toBeGreaterThanOrEqual(1);
    expect(r.seen.filter((s) => s.ok && /^grok-3-mini/.test(s.model)).length).toBeGreaterThan(0);
    expect(sumOf(r.samples, 'llm_governor_fallbacks_total', { from: 'openai/gpt-4o-mini', to: 'x_ai/grok-3-mini' })).toBeGreaterThan(0);
    expect(sumOf(r.samples, 'llm_governor_retries_total')).toBeGreaterThan(0);
    // With a healthy backup, the outage is invisible: every call was served.
    expect(r.seen.filter((s) => !s.ok)).toEqual([]);
    expectBudgetsExact(r.samples);
    // Every span ended, and exactly one per call.
    expect(r.spans.filter((s) => s.name === 'chat gpt-4o-mini')).toHaveLength(100);
  });

  it('a 429 storm with retry-after: calls retry, and those out of retries fail with the SDK’s RateLimitError', async () => {
    const r = await flapping([{ kind: '429', probability: 0.6, retryAfterSeconds: 0 }], {
      CALLS: '60',
      CONCURRENCY: '20',
      LLM_GOVERNOR_DAILY_BUDGET_USD: '5',
      LLM_GOVERNOR_BREAKER_ENABLED: 'false',
      LLM_GOVERNOR_MAX_RETRIES: '2',
    });
    expect(r.unhandled).toBe(0);
    const failed = r.seen.filter((s) => !s.ok);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThan(60);
    for (const f of failed) expect(f).toEqual({ ok: false, error: 'RateLimitError', status: 429, code: 'rate_limit_exceeded', apiError: true });
    // Exactly one loop: a failed call made 3 attempts, never more.
    expect(r.chats.length).toBeLessThanOrEqual(60 * 3);
    expect(sumOf(r.samples, 'llm_governor_retries_total')).toBe(r.chats.length - 60);
    expectBudgetsExact(r.samples);
  });

  it('a 5xx burst opens the breaker: nothing reaches the server while open, then one trial closes it', async () => {
    const r = await flapping([{ kind: '500', count: 4 }], {
      CALLS: '12',
      CONCURRENCY: '1',
      CLIENT_MAX_RETRIES: '0',
      PAUSE_AFTER: '7',
      PAUSE_MS: '1200',
      LLM_GOVERNOR_BREAKER_FAILURES: '4',
      LLM_GOVERNOR_BREAKER_RESET_SECONDS: '1',
      LLM_GOVERNOR_DAILY_BUDGET_USD: '5',
    });
    const kinds = r.seen.map((s) => (s.ok ? 'ok' : s.error));
    expect(kinds).toEqual([...Array(4).fill('InternalServerError'), ...Array(4).fill('CircuitOpenError'), ...Array(4).fill('ok')]);
    // 4 failures + the trial + 3 after it; nothing while open.
    expect(r.chats).toHaveLength(8);
    expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'circuit_open' })).toBe(4);
    expect(sumOf(r.samples, 'llm_governor_breaker_state')).toBe(0);
    expectBudgetsExact(r.samples);
  });

  it('hangs past the timeout count against the breaker: it opens, and later calls fail fast', async () => {
    const r = await flapping([{ kind: 'hang' }], {
      CALLS: '4',
      CLIENT_MAX_RETRIES: '0',
      LLM_GOVERNOR_TIMEOUT_SECONDS: '0.3',
      LLM_GOVERNOR_BREAKER_FAILURES: '2',
      LLM_GOVERNOR_DAILY_BUDGET_USD: '5',
    });
    expect(r.seen.map((s) => s.error)).toEqual(['APIConnectionTimeoutError', 'APIConnectionTimeoutError', 'CircuitOpenError', 'CircuitOpenError']);
    expect(r.chats).toHaveLength(2);
    expect(sumOf(r.samples, 'llm_governor_budget_reserved')).toBe(0);
  });

  it('streams through faults: cut-off streams fail as APIConnectionError and are charged for what they produced', async () => {
    const r = await flapping(
      [
        { kind: 'truncate', probability: 0.3 },
        { kind: '500', probability: 0.2 },
      ],
      {
        CALLS: '40',
        CONCURRENCY: '40',
        STREAM: '1',
        LLM_GOVERNOR_DAILY_BUDGET_USD: '5',
        LLM_GOVERNOR_BREAKER_ENABLED: 'false',
      },
    );
    expect(r.unhandled).toBe(0);
    const failed = r.seen.filter((s) => !s.ok);
    for (const f of failed) expect(['APIConnectionError', 'InternalServerError']).toContain(f.error);
    for (const f of failed) expect(f.apiError).toBe(true);
    expect(r.seen.filter((s) => s.ok).every((s) => s.usageChunks === 0)).toBe(true); // our usage chunk stays hidden
    expectBudgetsExact(r.samples);
  });
});

describe('fault suite: stale answers during an outage (cache_serve_stale_seconds)', () => {
  // Two identical calls: the first fills the cache (TTL 1 s), the app pauses past the TTL, the
  // second meets whatever the provider does from then on (every fault rule skips the first call).
  const stale = {
    CALLS: '2',
    SAME_PROMPT: '1',
    PAUSE_AFTER: '0',
    PAUSE_MS: '1200',
    CLIENT_MAX_RETRIES: '1',
    LLM_GOVERNOR_CACHE: 'on',
    LLM_GOVERNOR_CACHE_TTL_SECONDS: '1',
    LLM_GOVERNOR_CACHE_SERVE_STALE_SECONDS: '60',
    LLM_GOVERNOR_DAILY_BUDGET_USD: '5',
    LLM_GOVERNOR_RETRY_MAX_DELAY_SECONDS: '0.05',
  };
  const later = (kind: FaultRule['kind'], more: Partial<FaultRule> = {}): FaultRule => ({ kind, after: 1, ...more, match: { path: '/chat/completions', ...more.match } });
  const staleServed = (r: Awaited<ReturnType<typeof flapping>>) => ({
    metric: sumOf(r.samples, 'llm_governor_cache_requests_total', { result: 'stale' }),
    audited: r.logs.filter((l) => l.attributes?.['llm_governor.audit.kind'] === 'cache_stale_served').length,
    spans: r.spans.filter((s) => s.attributes['llm_governor.cache.stale'] === true).length,
  });
  const backupTo = (env: object) => ({
    ...env,
    LLM_GOVERNOR_CONFIG: configFile({ fallbacks: [{ primary: { provider: 'openai', model: 'gpt-4o-mini' }, backups: [{ provider: 'x_ai', model: 'grok-3-mini' }] }] }),
    XAI_API_KEY: 'xai-test-fault-suite-0123456789',
    XAI_API_ENDPOINT: sim.xaiBaseURL,
  });

  it('the provider answers 500s once the TTL has passed: the app gets the cached answer, marked, audited once, charged nothing', async () => {
    const r = await flapping([later('500')], stale);
    expect(r.seen[0]).toMatchObject({ ok: true });
    expect(r.seen[1]).toEqual(r.seen[0]); // the same answer, its usage included
    expect(r.chats).toHaveLength(3); // the first call, then the second's two tries
    expect(staleServed(r)).toEqual({ metric: 1, audited: 1, spans: 1 });
    const spans = r.spans.filter((s) => s.name === 'chat gpt-4o-mini');
    expect(spans).toHaveLength(2);
    expect(spans[1]!.attributes['llm_governor.cost.usd']).toBe(0);
    expect(spans[1]!.attributes['http.response.status_code']).toBe(200);
    // Charged nothing: the budget holds exactly the first call's cost; the stale one counts as saved.
    expectBudgetsExact(r.samples);
    expect(sumOf(r.samples, 'llm_governor_budget_spent')).toBeCloseTo(spans[0]!.attributes['llm_governor.cost.usd'] as number, 9);
    expect(sumOf(r.samples, 'llm_governor_cache_saved_total')).toBeGreaterThan(0);
  });

  it('the primary and its backup are both down (connection resets): the stale answer', async () => {
    const r = await flapping([later('reset')], backupTo(stale));
    expect(r.seen[1]).toEqual(r.seen[0]);
    expect(sumOf(r.samples, 'llm_governor_fallbacks_total', { to: 'x_ai/grok-3-mini' })).toBe(1);
    expect(staleServed(r)).toEqual({ metric: 1, audited: 1, spans: 1 });
    expect(sumOf(r.samples, 'llm_governor_budget_reserved')).toBe(0);
  });

  it('never while the provider answers: the primary after a retry, or a backup', async () => {
    const retried = await flapping([later('500', { count: 1 })], stale);
    expect(retried.seen[1]).toMatchObject({ ok: true, model: expect.stringMatching(/^gpt-4o-mini/) });
    expect(retried.chats).toHaveLength(3);
    expect(staleServed(retried)).toEqual({ metric: 0, audited: 0, spans: 0 });

    const backup = await flapping([later('500', { match: { provider: 'openai' } })], backupTo(stale));
    expect(backup.seen[1]).toMatchObject({ ok: true, model: expect.stringMatching(/^grok-3-mini/) });
    expect(staleServed(backup)).toEqual({ metric: 0, audited: 0, spans: 0 });
    expectBudgetsExact(backup.samples);
  });

  it('never for a 4xx, nor for a refusal of ours, nor when the option is off', async () => {
    const bad = await flapping([later('400')], stale);
    expect(bad.seen[1]).toMatchObject({ ok: false, error: 'BadRequestError', status: 400 });
    expect(bad.chats).toHaveLength(2);
    expect(staleServed(bad)).toEqual({ metric: 0, audited: 0, spans: 0 });

    const limited = await flapping([], { ...stale, LLM_GOVERNOR_RATE_LIMIT_RPM: '1', LLM_GOVERNOR_RATE_LIMIT_MAX_WAIT_SECONDS: '0' });
    expect(limited.seen[1]).toMatchObject({ ok: false, status: 429, code: 'rate_limited' });
    expect(staleServed(limited)).toEqual({ metric: 0, audited: 0, spans: 0 });

    const { LLM_GOVERNOR_CACHE_SERVE_STALE_SECONDS: _, ...off } = stale;
    const r = await flapping([later('500')], off);
    expect(r.seen[1]).toMatchObject({ ok: false, error: 'InternalServerError', status: 500 });
    expect(staleServed(r)).toEqual({ metric: 0, audited: 0, spans: 0 });
    expectBudgetsExact(r.samples);
  });
});
