// The AI SDK's calls under the preload, one provider package at a time: the fixture
// (test/fixtures/ai-sdk-app.mjs) run as a user runs it, and what must hold of every provider's
// calls, asserted once here. A test file names its provider, how the wire entry knows the
// endpoint, and what the spans must say; `describeAiSdkProvider` runs the same three checks
// under --require and --import.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RecordedRequest, type Simulator, type SimulatorOptions } from '../../src/simulator/index';
import { runObserved, sumOf, type ObservedRun } from './observed-run';
import type { TestSpan } from './otlp';
import { REPO } from './run-app';

const AI_SDK_APP = resolve(REPO, 'test/fixtures/ai-sdk-app.mjs');

export interface AiSdkCase {
  /** The fixture's PROVIDER. */
  provider: 'openai' | 'azure' | 'azure-deployments' | 'xai' | 'compatible';
  /** What `gen_ai.provider.name` must say. */
  system: 'openai' | 'azure.ai.openai' | 'x_ai';
  /** `gen_ai.request.model` of the chat calls (Azure: the deployment). */
  requestModel: string;
  /** `gen_ai.response.model` of the chat calls. */
  responseModel: RegExp;
  /** The price-table entry the chat calls are priced by (`llm_governor.price.model`). */
  priceModel: string;
  /** The path of every request the simulator sees (the package's URL style). */
  path: RegExp;
  /** How many calls the fixture makes with every model the package has. */
  calls: number;
  /** What the user sets so that the wire entry knows the endpoint (base URLs, a config file). */
  env(sim: Simulator): Record<string, string | undefined>;
}

/** One call as the fixture saw it. */
export interface SeenCall {
  name: string;
  api: 'chat' | 'responses' | 'embeddings';
  stream: boolean;
  id?: string;
  input?: number;
  output?: number;
  object?: boolean;
}

export type Preload = 'require' | 'import';

/** The test file's own simulator, started before its tests and closed after them. */
export function fileSimulator(options: SimulatorOptions = {}): () => Simulator {
  let sim: Simulator | undefined;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 15, ...options });
  });
  afterAll(async () => {
    await sim?.close();
  });
  return () => sim!;
}

/** A run of the fixture; `sent`: what reached the simulator meanwhile. */
export type AiSdkRun = ObservedRun & { sent: RecordedRequest[] };

export async function runAiSdk(c: AiSdkCase, sim: Simulator, preload: Preload, env: Record<string, string | undefined> = {}): Promise<AiSdkRun> {
  const before = sim.requests().length;
  const r = await runObserved({ script: AI_SDK_APP, preload, env: { SIM_URL: sim.url, PROVIDER: c.provider, ...c.env(sim), ...env } });
  return { ...r, sent: sim.requests().slice(before) };
}

const auditKinds = (r: ObservedRun, kind: string) => r.logs.filter((l) => l.attributes?.['llm_governor.audit.kind'] === kind);
const genAiSpans = (r: ObservedRun) => r.spans.filter((s) => s.attributes['gen_ai.operation.name'] !== undefined);

/** The span of a call the fixture saw: a chat call by its response id, an embedding by its operation. */
function spanOf(r: ObservedRun, call: SeenCall): TestSpan | undefined {
  if (call.api === 'embeddings') return r.spans.find((s) => s.attributes['gen_ai.operation.name'] === 'embeddings');
  return r.spans.find((s) => s.attributes['gen_ai.response.id'] === call.id);
}

/**
 * Every call the fixture made is one span with the semconv attributes, the provider's usage
 * (the same figures the AI SDK reported, never estimated), a cost; the scrape counts them, and
 * each has one audit event.
 */
export function expectGoverned(r: AiSdkRun, c: Omit<AiSdkCase, 'provider' | 'env'>, sim: Simulator): SeenCall[] {
  const calls = c.calls;
  expect(r.code, r.stderr).toBe(0);
  expect(r.sent).toHaveLength(calls);
  for (const { path, body } of r.sent) {
    expect(path).toMatch(c.path);
    // Every chat stream went out asking for usage: by the package itself, or by us on the wire.
    if (body.stream === true && path.endsWith('/chat/completions')) expect(body.stream_options).toMatchObject({ include_usage: true });
  }
  expect(r.stderr).toBe('');
  expect(r.out.error).toBeUndefined();
  const seen = r.out.calls as SeenCall[];
  expect(seen).toHaveLength(calls);
  expect(genAiSpans(r)).toHaveLength(calls);
  let inputTokens = 0;
  for (const call of seen) {
    const span = spanOf(r, call);
    expect(span, `${call.name} (${call.api}) has a span`).toBeDefined();
    const a = span!.attributes;
    expect(a['gen_ai.provider.name']).toBe(c.system);
    expect(a['server.address']).toBe('127.0.0.1');
    expect(a['server.port']).toBe(sim.port);
    expect(span!.status.code).not.toBe(2);
    expect(a['llm_governor.usage.estimated']).not.toBe(true);
    expect(a['llm_governor.cost.usd']).toBeGreaterThan(0);
    expect(a['llm_governor.cost.estimated']).not.toBe(true);
    expect(a['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    // The figures the AI SDK reported are the provider's; where the app asked for none on a stream
    // (we asked on the wire, and hid the answer from it), the span still has the provider's.
    if (call.input !== undefined) expect(a['gen_ai.usage.input_tokens']).toBe(call.input);
    if (call.output !== undefined) expect(a['gen_ai.usage.output_tokens']).toBe(call.output);
    inputTokens += a['gen_ai.usage.input_tokens'] as number;
    if (call.api === 'embeddings') continue;
    expect(a['gen_ai.operation.name']).toBe('chat');
    expect(a['gen_ai.request.model']).toBe(c.requestModel);
    expect(a['gen_ai.response.model']).toMatch(c.responseModel);
    expect(a['llm_governor.price.model']).toBe(c.priceModel);
    expect(a['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(a['gen_ai.request.stream'] === true).toBe(call.stream);
    if (call.stream) expect(a['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    if (call.object !== undefined) expect(call.object, 'generateObject parsed its schema').toBe(true);
  }
  const provider = { gen_ai_provider_name: c.system };
  expect(sumOf(r.samples, 'gen_ai_client_operation_duration_count', provider)).toBe(calls);
  expect(sumOf(r.samples, 'gen_ai_client_token_usage_sum', { ...provider, gen_ai_token_type: 'input' })).toBe(inputTokens);
  expect(sumOf(r.samples, 'llm_governor_cost_total')).toBeGreaterThan(0);
  expect(auditKinds(r, 'call_completed')).toHaveLength(calls);
  expect(auditKinds(r, 'call_failed')).toHaveLength(0);
  return seen;
}

/** A blocking budget: the AI SDK's APICallError at once, our code in it, not retried, nothing sent. */
async function expectBudgetBlocks(c: AiSdkCase, sim: Simulator, preload: Preload): Promise<void> {
  const r = await runAiSdk(c, sim, preload, { MODE: 'errors', CALLS: '1', MAX_RETRIES: '2', LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' });
  expect(r.code, r.stderr).toBe(0);
  expect(r.out.errors).toEqual([expect.objectContaining({ isAPICallError: true, status: 402, code: 'budget_exceeded', retryable: false })]);
  const spans = genAiSpans(r);
  expect(spans).toHaveLength(1); // one try: the AI SDK did not retry
  expect(spans[0]!.attributes['gen_ai.provider.name']).toBe(c.system);
  expect(spans[0]!.attributes['error.type']).toBe('budget_exceeded');
  expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'budget' })).toBe(1);
  expect(auditKinds(r, 'call_failed')).toHaveLength(1);
  expect(r.sent).toHaveLength(0);
}

/** A breaker opening on 500s: after the threshold our circuit_open (424, not retried), and nothing sent. */
async function expectBreakerOpens(c: AiSdkCase, sim: Simulator, preload: Preload): Promise<void> {
  const r = await runAiSdk(c, sim, preload, { MODE: 'errors', CALLS: '5', FAULT: '500', LLM_GOVERNOR_BREAKER_FAILURES: '3', LLM_GOVERNOR_BREAKER_RESET_SECONDS: '60' });
  expect(r.code, r.stderr).toBe(0);
  const errors = r.out.errors as Array<{ status: number; code?: string; retryable: boolean }>;
  expect(errors.map((e) => [e.status, e.code ?? null, e.retryable])).toEqual([
    [500, null, true],
    [500, null, true],
    [500, null, true],
    [424, 'circuit_open', false],
    [424, 'circuit_open', false],
  ]);
  expect(r.sent).toHaveLength(3);
  expect(genAiSpans(r).every((s) => s.attributes['gen_ai.provider.name'] === c.system)).toBe(true);
  expect(auditKinds(r, 'call_failed')).toHaveLength(5);
  expect(sumOf(r.samples, 'llm_governor_requests_rejected_total', { reason: 'circuit_open' })).toBe(2);
}

/** The three checks of one provider package, under --require and under --import. */
export function describeAiSdkProvider(c: AiSdkCase, sim: () => Simulator): void {
  describe.each(['require', 'import'] as const)(`the AI SDK with ${c.provider} under --%s`, (preload) => {
    it('every model the package has: spans, usage from the provider, cost, scrape, one audit event per call', async () => {
      expectGoverned(await runAiSdk(c, sim(), preload), c, sim());
    });
    it('a blocking budget: the AI SDK raises its APICallError at once, our code in it, not retried, nothing sent', () => expectBudgetBlocks(c, sim(), preload));
    it('a breaker opening on 500s: then our circuit_open (424, not retried) and nothing sent', () => expectBreakerOpens(c, sim(), preload));
  });
}
