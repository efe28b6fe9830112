import { context, diag, DiagLogLevel, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LlmGovernorInstrumentation, wrap } from '../../src/index';
import { loadConfig } from '../../src/config/load';
import { startSimulator, type Simulator } from '../../src/simulator/index';

/**
 * The two entry points for apps with their own OpenTelemetry setup: the Instrumentation class
 * (here driven by hand, as NodeSDK would) and wrap(client). In-process, with in-memory exporters.
 */
let sim: Simulator;
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 60_000 });
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(async () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  sim = await startSimulator({ seed: 9 });
});
afterAll(async () => {
  await sim?.close();
});

describe('wrap(client)', () => {
  it('instruments one client built by hand and returns the same object', async () => {
    spans.reset();
    const client = new OpenAI({ apiKey: 'sk-wrap-test-000000', baseURL: sim.openaiBaseURL, maxRetries: 0 });
    expect(wrap(client)).toBe(client);
    wrap(client); // twice is harmless
    const r = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    const finished = spans.getFinishedSpans();
    expect(finished).toHaveLength(1);
    expect(finished[0].attributes).toMatchObject({ 'gen_ai.usage.input_tokens': r.usage!.prompt_tokens, 'gen_ai.provider.name': 'openai' });
    // Another, unwrapped client stays untouched.
    const other = new OpenAI({ apiKey: 'sk-other-000000', baseURL: sim.openaiBaseURL, maxRetries: 0 });
    await other.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(spans.getFinishedSpans()).toHaveLength(1);
  });

  it('rejects what is not a client with a clear message', () => {
    expect(() => wrap({} as object)).toThrow(/expects an openai client/);
  });
});

describe('LlmGovernorInstrumentation', () => {
  it('patches a loaded openai module, records retries as span events, and unpatches', async () => {
    spans.reset();
    const inst = new LlmGovernorInstrumentation({ governor: loadConfig({}).config, enabled: false });
    inst.setTracerProvider(tracerProvider);
    inst.setMeterProvider(meterProvider);
    inst.enable();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('openai');
    expect(inst.patchModule(mod, mod.VERSION ?? require('openai/version').VERSION)).toBe(true);
    sim.setFaults([{ kind: '429', count: 1, retryAfterSeconds: 0 }]);
    try {
      const client = new mod.OpenAI({ apiKey: 'sk-inst-test-000000', baseURL: sim.openaiBaseURL, maxRetries: 2 });
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    } finally {
      sim.setFaults([]);
    }
    const [span] = spans.getFinishedSpans();
    expect(span.status.code).not.toBe(2);
    const events = span.events.map((e) => [e.name, e.attributes]);
    expect(events).toEqual([
      ['llm_governor.attempt.failed', { 'llm_governor.attempt.number': 1, 'llm_governor.attempt.status': 429 }],
      ['llm_governor.attempt', { 'llm_governor.attempt.number': 2, 'llm_governor.attempt.wait_ms': expect.any(Number) }],
    ]);
    await reader.forceFlush();
    const names = metricExporter.getMetrics().flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics.map((x) => x.descriptor.name)));
    expect(names).toEqual(expect.arrayContaining(['gen_ai.client.operation.duration', 'gen_ai.client.token.usage']));

    inst.disable();
    spans.reset();
    const client = new mod.OpenAI({ apiKey: 'sk-inst-test-000000', baseURL: sim.openaiBaseURL });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(spans.getFinishedSpans()).toHaveLength(0);
  });

  it('warns once about an openai version outside the tested range', () => {
    const warnings: string[] = [];
    const push = (...args: unknown[]) => warnings.push(args.join(' '));
    diag.setLogger({ warn: push, error() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
    const inst = new LlmGovernorInstrumentation({ governor: loadConfig({}).config, enabled: false });
    class Fake {
      post() {}
    }
    inst.patchModule({ OpenAI: Fake }, '8.1.0');
    inst.patchModule({ OpenAI: Fake }, '8.1.0');
    diag.disable();
    expect(warnings.filter((w) => w.includes('8.1.0'))).toHaveLength(1);
    expect(warnings[0]).toContain('outside the tested range');
  });
});
