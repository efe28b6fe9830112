// The tests of a governed Next.js app (test/fixtures/next-app: App Router route handlers, one with
// the openai SDK, one with the AI SDK), shared by the ways of governing it: each test file builds
// the app once and serves it with `next start` once per test, with the environment it needs.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { callEndEvents, chatSpans, expectGovernedChat } from '../helpers/governed-calls';
import { buildNextApp, observeNext, postJson } from '../helpers/next-app';
import { sumOf } from '../helpers/observed-run';
import type { TestSpan } from '../helpers/otlp';

interface Way {
  /** How the test names it. */
  label: string;
  /** NODE_OPTIONS for `next start`; none for the instrumentation.js hook. */
  nodeOptions?: string;
}

// `next start` exits with 128 + 15 on SIGTERM, by its own choice.
const NEXT_SIGTERM_EXIT = 143;
const rootOf = (spans: TestSpan[], span: TestSpan): TestSpan => {
  const parent = spans.find((s) => s.spanId === span.parentSpanId);
  return parent ? rootOf(spans, parent) : span;
};

export function describeNextApp(o: { instrumentationHook: boolean; ways: Way[] }): void {
  let sim: Simulator;
  let dir: string | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 16 });
    dir = await buildNextApp({ instrumentationHook: o.instrumentationHook });
  }, 300_000);
  afterAll(async () => {
    await sim?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const serve = <T>(way: Way, env: Record<string, string>, exercise: (url: string) => Promise<T>) =>
    observeNext(dir!, { nodeOptions: way.nodeOptions, env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1`, ...env } }, exercise);

  describe.each(o.ways)('a Next.js app governed by $label', (way) => {
    it('route handlers with the openai SDK and the AI SDK: semconv spans under the request span, usage from the provider, cost, scrape, one audit event per call', async () => {
      const r = await serve(way, {}, async (url) => ({
        openai: await postJson(`${url}/api/openai`, {}),
        openaiStream: await postJson(`${url}/api/openai`, { stream: true }),
        ai: await postJson(`${url}/api/ai`, {}),
        aiStream: await postJson(`${url}/api/ai`, { stream: true }),
      }));
      expect(r.code, r.stderr).toBe(NEXT_SIGTERM_EXIT);
      expect(r.stderr).not.toMatch(/llm-governor/);
      expect(Object.values(r.out).filter((x) => x.error)).toEqual([]);
      const chats = chatSpans(r.spans);
      expect(chats).toHaveLength(4);
      for (const span of chats) {
        expectGovernedChat(span);
        // Next's own spans (its tracer finds our SDK) hold the call: one trace per request.
        expect(rootOf(r.spans, span)).toMatchObject({ name: expect.stringMatching(/^POST \/api\/(openai|ai)$/), traceId: span.traceId });
      }
      const usages = chats.map((s) => [s.attributes['gen_ai.request.stream'] === true, s.attributes['gen_ai.usage.input_tokens'], s.attributes['gen_ai.usage.output_tokens']]);
      expect(usages).toContainEqual([false, r.out.openai.usage.prompt_tokens, r.out.openai.usage.completion_tokens]);
      expect(usages).toContainEqual([false, r.out.ai.usage.inputTokens, r.out.ai.usage.outputTokens]);
      expect(usages).toContainEqual([true, r.out.aiStream.usage.inputTokens, r.out.aiStream.usage.outputTokens]);
      expect(r.out.openaiStream.text.length).toBeGreaterThan(0);
      expect(sumOf(r.samples, 'gen_ai_client_operation_duration_count', { gen_ai_provider_name: 'openai' })).toBe(4);
      expect(sumOf(r.samples, 'gen_ai_client_token_usage_sum', { gen_ai_token_type: 'output' })).toBeGreaterThan(0);
      expect(sumOf(r.samples, 'llm_governor_cost_total')).toBeGreaterThan(0);
      expect(callEndEvents(r.logs)).toEqual(['call_completed', 'call_completed', 'call_completed', 'call_completed']);
    });

    it("a blocking budget: each route gets its client's own error with our code, raised once, nothing sent", async () => {
      const before = sim.requests().length;
      const r = await serve(way, { LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' }, async (url) => [await postJson(`${url}/api/openai`, {}), await postJson(`${url}/api/ai`, {})]);
      expect(r.code, r.stderr).toBe(NEXT_SIGTERM_EXIT);
      expect(r.out.map((x) => x.error)).toEqual([
        { status: 429, code: 'budget_exceeded', isApiError: true },
        { isAPICallError: true, status: 402, code: 'budget_exceeded', retryable: false },
      ]);
      expect(chatSpans(r.spans).map((s) => s.attributes['error.type'])).toEqual(['budget_exceeded', 'budget_exceeded']);
      expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'budget' })).toBe(2);
      expect(callEndEvents(r.logs)).toEqual(['call_failed', 'call_failed']);
      expect(sim.requests().length).toBe(before);
    });

    it('a breaker opening on 500s, shared by both clients: the retries of the openai SDK each count, then both get our circuit_open, once, nothing sent', async () => {
      const before = sim.requests().length;
      const env = { LLM_GOVERNOR_BREAKER_FAILURES: '3', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60' };
      const r = await serve(way, env, async (url) => [
        await postJson(`${url}/api/openai`, { fault: '500' }),
        await postJson(`${url}/api/ai`, { fault: '500' }),
        await postJson(`${url}/api/openai`, { fault: '500' }),
      ]);
      expect(r.code, r.stderr).toBe(NEXT_SIGTERM_EXIT);
      expect(r.out.map((x) => x.error)).toMatchObject([
        { status: 500, isApiError: true },
        { isAPICallError: true, status: 424, code: 'circuit_open', retryable: false },
        { status: 503, code: 'circuit_open', isApiError: true },
      ]);
      expect(sim.requests().length - before).toBe(3); // the first call and its two retries
      expect(chatSpans(r.spans).map((s) => s.attributes['error.type'])).toEqual(['500', '500', '500', 'circuit_open', 'circuit_open']);
      expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'circuit_open' })).toBe(2);
      expect(callEndEvents(r.logs)).toEqual(Array(5).fill('call_failed'));
    });
  });
}
