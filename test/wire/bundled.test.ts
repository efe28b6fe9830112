import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import webpack from 'webpack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { callEndEvents, chatSpans, expectGovernedChat } from '../helpers/governed-calls';
import { runObserved, sumOf } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

/**
 * openai bundled into the app, by esbuild and by webpack (its Node API, target node): no
 * `require` hook sees it, and its calls reach the provider through the process's fetch, where
 * the wire entry governs them. Each bundle runs from a temp dir, where no `openai` resolves.
 */
const ENTRY = resolve(REPO, 'test/fixtures/bundled-openai-app.cjs');
const BUNDLERS: Record<string, (outfile: string) => Promise<void>> = {
  esbuild: async (outfile) => {
    await build({ entryPoints: [ENTRY], bundle: true, platform: 'node', target: 'node20', outfile, logLevel: 'silent' });
  },
  webpack: (outfile) =>
    new Promise((done, fail) => {
      const config = { mode: 'production', target: 'node', entry: ENTRY, output: { path: dirname(outfile), filename: basename(outfile) }, optimization: { minimize: false } } as const;
      webpack(config, (err, stats) => (err || stats?.hasErrors() ? fail(err ?? new Error(stats?.toString('errors-only'))) : done()));
    }),
};

let sim: Simulator;
let dir: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: 17 });
  dir = mkdtempSync(join(tmpdir(), 'llm-governor-bundle-'));
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(Object.keys(BUNDLERS))('an app bundled with %s (openai 6 inside the bundle)', (bundler) => {
  let bundle: string;
  beforeAll(async () => {
    bundle = join(dir, `${bundler}-app.js`);
    await BUNDLERS[bundler](bundle);
    expect(readFileSync(bundle, 'utf8')).not.toMatch(/require\(["']openai["']\)/);
  }, 120_000);
  const run = (preload: 'require' | 'import', env: Record<string, string> = {}) =>
    runObserved({ script: bundle, cwd: dir, preload, env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1`, ...env } });

  describe.each(['require', 'import'] as const)('under --%s', (preload) => {
    it('is governed through fetch: semconv spans, usage from the provider (the stream too), cost, scrape, one audit event per call', async () => {
      const r = await run(preload);
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.error).toBeUndefined();
      const chats = chatSpans(r.spans);
      expect(chats).toHaveLength(2);
      for (const span of chats) {
        expectGovernedChat(span);
      }
      const plain = chats.find((s) => s.attributes['gen_ai.request.stream'] !== true)!;
      expect(plain.attributes['gen_ai.usage.input_tokens']).toBe(r.out.usage.prompt_tokens);
      expect(plain.attributes['gen_ai.usage.output_tokens']).toBe(r.out.usage.completion_tokens);
      expect(r.out.streamText.length).toBeGreaterThan(0);
      expect(sumOf(r.samples, 'gen_ai_client_operation_duration_count', { gen_ai_provider_name: 'openai' })).toBe(2);
      expect(sumOf(r.samples, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'input' })).toBeGreaterThan(0);
      expect(sumOf(r.samples, 'llm_governor_cost_total')).toBeGreaterThan(0);
      expect(callEndEvents(r.logs)).toEqual(['call_completed', 'call_completed']);
    });

    it('a blocking budget: the bundled SDK raises its own APIError with our code, once (x-should-retry: false), nothing sent', async () => {
      const before = sim.requests().length;
      const r = await run(preload, { LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.error).toMatchObject({ status: 429, code: 'budget_exceeded', isApiError: true });
      const chats = chatSpans(r.spans);
      expect(chats).toHaveLength(1);
      expect(chats[0].attributes['error.type']).toBe('budget_exceeded');
      expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'budget' })).toBe(1);
      expect(callEndEvents(r.logs)).toEqual(['call_failed']);
      expect(sim.requests().length).toBe(before);
    });

    it("a breaker opening on 500s: the SDK's own retries each count, then our circuit_open (503) is raised once, not retried, nothing sent", async () => {
      const before = sim.requests().length;
      const env = { MODE: 'errors', CALLS: '2', MAX_RETRIES: '2', FAULT: '500', LLM_GOVERNOR_BREAKER_FAILURES: '3', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60' };
      const r = await run(preload, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.errors).toMatchObject([
        { name: 'InternalServerError', status: 500, isApiError: true },
        { name: 'InternalServerError', status: 503, code: 'circuit_open', isApiError: true },
      ]);
      expect(sim.requests().length - before).toBe(3); // the first call and its two retries
      expect(chatSpans(r.spans).map((s) => s.attributes['error.type'])).toEqual(['500', '500', '500', 'circuit_open']);
      expect(callEndEvents(r.logs)).toEqual(Array(4).fill('call_failed'));
      expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'circuit_open' })).toBe(1);
    });
  });

  it('falls back as the openai SDK path does: a primary failing 500, the backup (xAI, from XAI_BASE_URL and XAI_API_KEY) serves, with its own key', async () => {
    const config = join(dir, 'fallback.json');
    writeFileSync(config, JSON.stringify({ breaker_enabled: false, fallbacks: [{ primary: { provider: 'openai' }, backups: [{ provider: 'x_ai', model: 'grok-3' }] }] }));
    const before = sim.requests().length;
    sim.setFaults([{ kind: '500', match: { provider: 'openai' } }]);
    try {
      const r = await run('require', { LLM_GOVERNOR_CONFIG: config, XAI_BASE_URL: sim.xaiBaseURL, XAI_API_KEY: 'xai-test-bundle-0123456789' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.out.error).toBeUndefined();
      expect(r.out.streamText.length).toBeGreaterThan(0);
      const chats = chatSpans(r.spans);
      expect(chats).toHaveLength(2);
      for (const span of chats) expect(span.attributes).toMatchObject({ 'gen_ai.request.model': 'gpt-4o-mini', 'llm_governor.served.provider': 'x_ai', 'llm_governor.served.model': 'grok-3' });
      expect(sumOf(r.samples, 'llm_governor_fallbacks_total', { from: 'openai/gpt-4o-mini', to: 'x_ai/grok-3', reason: '500' })).toBe(2);
      const sent = sim.requests().slice(before);
      expect(sent.map((q) => q.provider)).toEqual(['openai', 'xai', 'openai', 'xai']);
      for (const q of sent.filter((q) => q.provider === 'xai')) {
        expect(q.headers.authorization).toBe('Bearer xai-test-bundle-0123456789');
        expect(JSON.stringify(q.headers)).not.toContain('sk-test-bundle');
      }
      expect(callEndEvents(r.logs)).toEqual(['call_completed', 'call_completed']);
    } finally {
      sim.setFaults([]);
    }
  });
});
