import { resolve } from 'node:path';
import { expectSameTranscript } from '../helpers/transcript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startOtlpReceiver, type TestSpan } from '../helpers/otlp';
import { REPO, runApp, telemetryEnv, type AppRun } from '../helpers/run-app';

/**
 * Drop-in means invisible: the same unmodified app, run bare and under the preload, prints the
 * same transcript (results, SDK objects' behaviour, error classes) — and the preload's telemetry
 * shows one span per call with the provider's own token counts.
 */
const APP = resolve(REPO, 'test/fixtures/semantics-app.cjs');
const lines = (run: AppRun) =>
  run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

let sim: Simulator;
let otlp: Awaited<ReturnType<typeof startOtlpReceiver>>;
let bare: AppRun;
let instrumented: AppRun;
let spans: TestSpan[];

beforeAll(async () => {
  sim = await startSimulator({ seed: 3 });
  otlp = await startOtlpReceiver();
  bare = await runApp({ script: APP, preload: 'none', env: { SIM_URL: sim.url, XAI_API_ENDPOINT: sim.xaiBaseURL } });
  sim.reset();
  instrumented = await runApp({ script: APP, preload: 'require', env: { SIM_URL: sim.url, XAI_API_ENDPOINT: sim.xaiBaseURL, ...telemetryEnv(otlp.url) } });
  spans = otlp.spans;
}, 120_000);

afterAll(async () => {
  await sim?.close();
  await otlp?.close();
});

describe('an unmodified app behaves exactly as without the preload', () => {
  it('exits the same way', () => {
    expect(bare.code).toBe(0);
    expect(instrumented.code).toBe(bare.code);
    expect(instrumented.stderr).toBe(bare.stderr);
  });

  it('prints the same transcript, case by case', () => {
    const a = lines(bare);
    const b = lines(instrumented);
    expect(a.length).toBeGreaterThan(20);
    expectSameTranscript(a, b);
  });

  it('keeps SDK semantics that the anchors broke', () => {
    const byCase = Object.fromEntries(lines(instrumented).map((l) => [l.case, l]));
    expect(byCase.withResponse).toMatchObject({ status: 200, hasRequestId: true });
    expect(byCase.stream.anyUsage).toBe(false); // the usage we asked for is hidden
    expect(byCase.streamAppAsksUsage.lastChoices).toBe(0); // the app's own request is honoured
    expect(byCase.streamAppAsksUsage.last).toMatchObject({ prompt_tokens: expect.any(Number) });
    expect(byCase.streamTee.a).toBe(byCase.streamTee.b);
    expect(byCase.streamToReadable.anyUsage).toBe(false);
    expect(byCase.streamDoubleIteration).toMatchObject({ threw: true });
    expect(byCase.httpError).toMatchObject({ cls: 'InternalServerError', status: 500, isApiError: true });
    expect(byCase.rateLimited).toMatchObject({ cls: 'RateLimitError', status: 429, isApiError: true });
    expect(byCase.connectionError).toMatchObject({ cls: 'APIConnectionError', isApiError: true });
    expect(byCase.abortBeforeResponse.cls).toBe('APIUserAbortError');
  });
});

describe('telemetry of the instrumented run', () => {
  const find = (pred: (s: TestSpan) => boolean) => spans.filter(pred);
  const attr = (s: TestSpan, k: string) => s.attributes[k];

  it('has one CLIENT span per logical call, ended', () => {
    const transcript = lines(instrumented);
    const calls = transcript.length - 1; // connectionError's dead client still makes one call; streamDoubleIteration one
    expect(spans.length).toBeGreaterThanOrEqual(calls);
    for (const s of spans) {
      expect(s.kind).toBe(3); // SPAN_KIND_CLIENT in OTLP
      expect(s.endNs).toBeGreaterThanOrEqual(s.startNs);
      expect(s.name).toBe(`${attr(s, 'gen_ai.operation.name')} ${attr(s, 'gen_ai.request.model')}`);
    }
    expect(new Set(spans.map((s) => s.spanId)).size).toBe(spans.length);
  });

  it('records the provider token counts for a plain chat call, as the app saw them', () => {
    const chat = lines(instrumented).find((l) => l.case === 'chat');
    const s = find((x) => x.name === 'chat gpt-4o-mini' && attr(x, 'gen_ai.usage.input_tokens') === chat.usage.prompt_tokens && !x.attributes['llm_governor.stream'])[0];
    expect(s).toBeDefined();
    expect(s.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': chat.model,
      'gen_ai.usage.input_tokens': chat.usage.prompt_tokens,
      'gen_ai.usage.output_tokens': chat.usage.completion_tokens,
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': '127.0.0.1',
    });
    expect(s.attributes['llm_governor.usage.estimated']).toBeUndefined();
  });

  it('gives every completed stream the provider usage, not an estimate', () => {
    const streams = find((s) => s.attributes['llm_governor.stream'] === true && s.attributes['llm_governor.stream.outcome'] === 'completed');
    expect(streams.length).toBeGreaterThanOrEqual(5);
    for (const s of streams) {
      if (attr(s, 'gen_ai.operation.name') !== 'chat') continue;
      expect(attr(s, 'gen_ai.usage.input_tokens')).toBeGreaterThan(0);
      expect(attr(s, 'gen_ai.usage.output_tokens')).toBeGreaterThan(0);
      expect(s.attributes['llm_governor.usage.estimated']).toBeUndefined();
    }
  });

  it('ends broken-off and aborted streams once, estimating usage only when the provider sent none', () => {
    const broken = find((s) => s.attributes['llm_governor.stream.outcome'] === 'broken');
    const aborted = find((s) => s.attributes['llm_governor.stream.outcome'] === 'aborted');
    expect(broken.length).toBeGreaterThanOrEqual(1);
    expect(aborted.length).toBeGreaterThanOrEqual(1);
    // streamBreak stops after 2 chunks: the usage chunk never came, so the figure is ours.
    const early = broken.find((s) => s.attributes['llm_governor.stream.chunks'] === 2)!;
    expect(early.attributes['llm_governor.usage.estimated']).toBe(true);
    expect(attr(early, 'gen_ai.usage.output_tokens')).toBeGreaterThan(0);
    for (const s of [...broken, ...aborted]) {
      expect(attr(s, 'gen_ai.usage.input_tokens')).toBeGreaterThan(0);
      expect(s.status.code).not.toBe(2);
    }
  });

  it('marks failures with error.type and ERROR status', () => {
    const errors = find((s) => s.status.code === 2);
    const types = errors.map((s) => attr(s, 'error.type'));
    expect(types).toEqual(expect.arrayContaining(['InternalServerError', 'RateLimitError', 'APIConnectionError', 'APIUserAbortError']));
    const http500 = errors.find((s) => attr(s, 'error.type') === 'InternalServerError')!;
    expect(attr(http500, 'http.response.status_code')).toBe(500);
  });

  it('names Azure and xAI correctly, with their usage', () => {
    const azure = find((s) => attr(s, 'gen_ai.provider.name') === 'azure.ai.openai');
    const xai = find((s) => attr(s, 'gen_ai.provider.name') === 'x_ai');
    expect(azure.length).toBe(2);
    expect(xai.length).toBe(2);
    for (const s of [...azure, ...xai]) {
      expect(attr(s, 'gen_ai.usage.input_tokens')).toBeGreaterThan(0);
      expect(attr(s, 'gen_ai.usage.output_tokens')).toBeGreaterThan(0);
      expect(Object.keys(s.attributes).some((k) => k.startsWith('openai.'))).toBe(false);
    }
  });

  it('covers every billable operation', () => {
    const ops = new Set(spans.map((s) => attr(s, 'gen_ai.operation.name')));
    for (const op of ['chat', 'embeddings', 'text_completion', 'image_generation', 'moderation', 'text_to_speech']) expect(ops).toContain(op);
    const emb = find((s) => attr(s, 'gen_ai.operation.name') === 'embeddings')[0];
    expect(attr(emb, 'gen_ai.usage.input_tokens')).toBeGreaterThan(0);
  });

  it('puts no API key and no prompt text anywhere it emits', () => {
    const everything = [instrumented.stdout.replace(/\{"case".*\n/g, ''), instrumented.stderr, ...otlp.raw.map((r) => r.text)].join('\n');
    for (const secret of ['sk-test-semantics', 'azure-key-0123', 'xai-test-0123', 'Bearer ']) expect(everything).not.toContain(secret);
    expect(everything).not.toContain('Bouvet');
  });
});
