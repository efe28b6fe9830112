// The suite every client library built on the openai SDK runs under the preload (LangChain, the
// OpenAI Agents SDK): its app (test/fixtures/*-scenario.cjs, on the shell client-app.cjs) runs in
// a child process under --require and --import against the simulator, and each run is checked
// the same way: one span per provider call, from the SDK adapter (never a second one from the wire
// entry), with the provider's usage, a cost, the scrape and one audit event per call; a blocking
// budget; a breaker opening on 500s. What is particular to a client (how our error surfaces
// through it) is the caller's `expect*` hooks.
import { expect, it } from 'vitest';
import type { Simulator } from '../../src/simulator/index';
import { expectGovernedChat } from './governed-calls';
import type { TestSpan } from './otlp';
import { runObserved, sumOf, type ObservedRun } from './observed-run';

export type Preload = 'require' | 'import';

/** One call as the app reports it (test/fixtures/*-scenario.cjs). */
export interface AppCall {
  operation: 'chat' | 'embeddings';
  stream?: boolean;
  text?: string;
  /** The usage the provider sent, as the client handed it to the app. */
  usage?: { input: number; output: number };
}

/** An error as the app saw it (describeError in test/fixtures/client-app.cjs). */
export interface AppError {
  name?: string;
  /** The class chain: ours is a subclass of the SDK's `APIError`. */
  chain: string[];
  status?: number;
  code?: string;
  message: string;
  [extra: string]: unknown;
}

export interface ClientSuite {
  /** The app for a preload: the .cjs entry under --require, the .mjs one under --import. */
  fixture: (preload: Preload) => string;
  /** The openai SDK the client calls, as its requests name it (`x-stainless-package-version`). */
  openaiVersion: RegExp;
  /** Extra environment of every run. */
  env?: Record<string, string>;
  /** The budget refusal as it reaches the app through the client. */
  expectBudgetError: (err: AppError) => void;
  /** The breaker's refusal (after the threshold) as it reaches the app through the client. */
  expectCircuitOpenError: (err: AppError) => void;
}

const gen = (s: TestSpan) => s.attributes['gen_ai.operation.name'];
const auditKinds = (r: ObservedRun) => r.logs.map((l) => String(l.attributes?.['llm_governor.audit.kind'] ?? '')).filter(Boolean);
const count = (list: string[], kind: string) => list.filter((k) => k === kind).length;

/** The governed spans of a run, in the order the calls started. */
export function callSpans(r: ObservedRun): TestSpan[] {
  return r.spans.filter((s) => gen(s) !== undefined).sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
}

/** Runs the app under the preload against the simulator; `sent` is what reached the simulator meanwhile. */
export async function runClient(sim: Simulator, suite: ClientSuite, preload: Preload, env: Record<string, string> = {}) {
  const before = sim.requests().length;
  const r = await runObserved({ script: suite.fixture(preload), preload, env: { SIM_URL: sim.url, ...suite.env, ...env } });
  expect(r.code, r.stderr).toBe(0);
  expect(r.out?.error, JSON.stringify(r.out?.error)).toBeUndefined();
  return { r, sent: sim.requests().slice(before) };
}

/** Every span: the provider, the simulator's address; none inside another (one span per call, whichever entry saw it). */
function expectCallSpans(spans: TestSpan[], sim: Simulator) {
  const ids = new Set(spans.map((s) => s.spanId));
  for (const span of spans) {
    expect(span.attributes['gen_ai.provider.name']).toBe('openai');
    expect(span.attributes['server.address']).toBe('127.0.0.1');
    expect(span.attributes['server.port']).toBe(sim.port);
    expect(ids.has(span.parentSpanId ?? '')).toBe(false);
  }
}

/**
 * The three runs every client gets, under each preload; `sim()` is the test file's simulator
 * (`fileSimulator()` of ai-sdk-suite.ts). Call inside a `describe`.
 */
export function governedClientSuite(sim: () => Simulator, suite: ClientSuite, preload: Preload): void {
  it('its calls: one span each from the SDK adapter, usage from the provider, cost, scrape, one audit event per call', async () => {
    const { r, sent } = await runClient(sim(), suite, preload);
    expect(r.stderr).toBe('');
    const calls = r.out.calls as AppCall[];
    const spans = callSpans(r);
    // Through the SDK adapter: the client's openai class carries the preload's patch, and its
    // requests are the openai SDK's. No double counting: one span per request the provider got,
    // none from the wire entry besides.
    expect(r.out.patched).toBe(true);
    for (const req of sent) expect(req.headers['x-stainless-package-version']).toMatch(suite.openaiVersion);
    expect(spans).toHaveLength(sent.length);
    expectCallSpans(spans, sim());
    expect(spans.map((s) => [gen(s), s.attributes['gen_ai.request.stream'] === true])).toEqual(calls.map((c) => [c.operation, c.stream === true]));
    spans.forEach((span, i) => {
      const call = calls[i];
      expect(span.attributes['gen_ai.request.model']).toBe(sent[i].model);
      if (call.operation === 'chat') expectGovernedChat(span, sent[i].model);
      expect(span.attributes['llm_governor.usage.estimated']).toBeUndefined();
      expect(span.attributes['llm_governor.cost.usd']).toBeGreaterThan(0);
      expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
      if (call.usage) {
        expect(span.attributes['gen_ai.usage.input_tokens']).toBe(call.usage.input);
        expect(span.attributes['gen_ai.usage.output_tokens']).toBe(call.usage.output);
      }
      if (call.text !== undefined) expect(call.text.length).toBeGreaterThan(0);
      if (call.stream) expect(span.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    });
    expect(sumOf(r.samples, 'gen_ai_client_operation_duration_count', { gen_ai_provider_name: 'openai' })).toBe(calls.length);
    expect(sumOf(r.samples, 'gen_ai_client_token_usage_count', { gen_ai_token_type: 'input' })).toBe(calls.length);
    expect(sumOf(r.samples, 'llm_governor_cost_total')).toBeGreaterThan(0);
    const kinds = auditKinds(r);
    expect(count(kinds, 'call_completed')).toBe(calls.length);
    expect(count(kinds, 'call_failed')).toBe(0);
  });

  it('a blocking budget: our refusal through the client, not retried, nothing sent', async () => {
    const { r, sent } = await runClient(sim(), suite, preload, { MODE: 'errors', CALLS: '1', MAX_RETRIES: '2', LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' });
    const [err] = r.out.errors as AppError[];
    // The SDK adapter's status (the wire entry answers the AI SDK with others).
    expect(err).toMatchObject({ status: 429, code: 'budget_exceeded' });
    expect(err.chain).toEqual(expect.arrayContaining(['BudgetExceededError', 'APIError']));
    suite.expectBudgetError(err);
    expect(sent).toHaveLength(0);
    const spans = callSpans(r);
    expect(spans).toHaveLength(1); // one try: neither the client nor the SDK retried
    expectCallSpans(spans, sim());
    expect(spans[0].attributes['error.type']).toBe('budget_exceeded');
    expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'budget' })).toBe(1);
    const kinds = auditKinds(r);
    expect(count(kinds, 'call_failed')).toBe(1);
    expect(count(kinds, 'budget_block')).toBe(1);
  });

  it('a breaker opening on 500s: after the threshold our circuit_open through the client, not retried, nothing sent', async () => {
    sim().setFaults([{ kind: '500', match: { path: '/v1/' } }]);
    try {
      const { r, sent } = await runClient(sim(), suite, preload, {
        MODE: 'errors',
        CALLS: '5',
        MAX_RETRIES: '0',
        LLM_GOVERNOR_MAX_RETRIES: '0',
        LLM_GOVERNOR_BREAKER_FAILURES: '3',
        LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60',
      });
      const errors = r.out.errors as AppError[];
      expect(errors.slice(0, 3).map((e) => e?.status)).toEqual([500, 500, 500]);
      for (const err of errors.slice(3)) {
        expect(err).toMatchObject({ status: 503, code: 'circuit_open' });
        expect(err.chain).toEqual(expect.arrayContaining(['CircuitOpenError', 'APIError']));
        suite.expectCircuitOpenError(err);
      }
      expect(errors).toHaveLength(5);
      expect(sent).toHaveLength(3);
      const spans = callSpans(r);
      expect(spans).toHaveLength(5);
      expectCallSpans(spans, sim());
      const kinds = auditKinds(r);
      expect(count(kinds, 'call_failed')).toBe(5);
      expect(count(kinds, 'breaker_opened')).toBe(1);
      expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'circuit_open' })).toBe(2);
    } finally {
      sim().setFaults([]);
    }
  });
}
