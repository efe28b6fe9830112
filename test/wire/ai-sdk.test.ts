import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runObserved, sumOf } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/openai`) never passes through the openai SDK: it calls the
 * provider with the process's fetch. Under the preload, the wire entry governs those calls with
 * the same pipeline: spans with the provider's usage, the scrape, the cost, the audit trail, and
 * a budget that blocks with the AI SDK's own error type, our code in it, and no retry.
 */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 15 });
});
afterAll(async () => {
  await sim?.close();
});

const APP = resolve(REPO, 'test/fixtures/ai-sdk-app.mjs');

describe.each(['require', 'import'] as const)('the AI SDK under --%s', (preload) => {
  it('generateText, streamText and embed: spans, usage from the provider, cost, scrape, one audit event per call', async () => {
    const r = await runObserved({ script: APP, preload, env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.out.error).toBeUndefined();
    const chats = r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    // Chat Completions (`openai.chat`) and Responses (`openai.responses`), each plain and streamed.
    expect(chats).toHaveLength(4);
    const isResponses = (s: (typeof chats)[number]) => String(s.attributes['gen_ai.response.id'] ?? '').startsWith('resp');
    const pick = (responses: boolean, stream: boolean) => chats.find((s) => isResponses(s) === responses && (s.attributes['gen_ai.request.stream'] === true) === stream)!;
    const plain = pick(false, false);
    const streamed = pick(false, true);
    const respPlain = pick(true, false);
    const respStreamed = pick(true, true);
    for (const [span, usage] of [
      [plain, r.out.generate.usage],
      [streamed, r.out.stream.usage],
      [respPlain, r.out.responses.usage],
      [respStreamed, r.out.responsesStream.usage],
    ] as const) {
      expect(span.attributes['gen_ai.provider.name']).toBe('openai');
      expect(span.attributes['gen_ai.request.model']).toBe('gpt-4o-mini');
      expect(span.attributes['gen_ai.response.model']).toMatch(/^gpt-4o-mini/);
      expect(span.attributes['gen_ai.usage.input_tokens']).toBe(usage.inputTokens);
      expect(span.attributes['gen_ai.usage.output_tokens']).toBe(usage.outputTokens);
      expect(span.attributes['llm_governor.usage.estimated']).not.toBe(true);
      expect(span.attributes['llm_governor.cost.usd']).toBeGreaterThan(0);
    }
    // The stream asked for no usage: we asked on the wire, and the app still got its text and usage.
    expect(r.out.stream.text.length).toBeGreaterThan(0);
    expect(streamed.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    const emb = r.spans.find((s) => s.attributes['gen_ai.operation.name'] === 'embeddings')!;
    expect(emb.attributes['gen_ai.usage.input_tokens']).toBe(r.out.embed.usage.tokens);
    expect(r.out.embed.dims).toBeGreaterThan(0);

    expect(sumOf(r.samples, 'gen_ai_client_operation_duration_count', { gen_ai_provider_name: 'openai' })).toBe(5);
    expect(sumOf(r.samples, 'llm_governor_cost_total')).toBeGreaterThan(0);
    const completed = r.logs.filter((l) => (l.attributes?.['llm_governor.audit.kind'] ?? '') === 'call_completed');
    expect(completed).toHaveLength(5);
  });

  it('a blocking budget: the AI SDK raises its APICallError at once, our code in it, not retried, nothing sent', async () => {
    const before = sim.requests().length;
    const r = await runObserved({
      script: APP,
      preload,
      env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1`, MODE: 'errors', CALLS: '1', MAX_RETRIES: '2', LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' },
    });
    expect(r.code, r.stderr).toBe(0);
    const [err] = r.out.errors;
    expect(err).toMatchObject({ isAPICallError: true, status: 402, code: 'budget_exceeded', retryable: false });
    const spans = r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(spans).toHaveLength(1); // one try: the AI SDK did not retry
    expect(spans[0].attributes['error.type']).toBe('budget_exceeded');
    expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'budget' })).toBe(1);
    expect(sim.requests().length).toBe(before);
  });

  it('a breaker opening on 500s: after the threshold the AI SDK gets our circuit_open (424, not retried) and nothing is sent', async () => {
    const before = sim.requests().length;
    const r = await runObserved({
      script: APP,
      preload,
      env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1`, MODE: 'errors', CALLS: '5', FAULT: '500', LLM_GOVERNOR_BREAKER_FAILURES: '3', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60' },
    });
    expect(r.code, r.stderr).toBe(0);
    const errors = r.out.errors as Array<{ status: number; code?: string; retryable: boolean }>;
    expect(errors.slice(0, 3).map((e) => e.status)).toEqual([500, 500, 500]);
    expect(errors.slice(3).map((e) => [e.status, e.code, e.retryable])).toEqual([
      [424, 'circuit_open', false],
      [424, 'circuit_open', false],
    ]);
    expect(sim.requests().length - before).toBe(3);
    const failed = r.logs.filter((l) => l.attributes?.['llm_governor.audit.kind'] === 'call_failed');
    expect(failed).toHaveLength(5);
    expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'circuit_open' })).toBe(2);
  });
});
