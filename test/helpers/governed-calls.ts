// What every governed chat call shows, whichever client and entry it came through.
import { expect } from 'vitest';
import type { TestLogRecord, TestSpan } from './otlp';

/** The chat spans, in the order the calls started. */
export function chatSpans(spans: TestSpan[]): TestSpan[] {
  return spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat').sort((a, b) => Number(a.startNs - b.startNs));
}

/** The audit events that end a call (`call_completed`, `call_failed`), in the order they came. */
export function callEndEvents(logs: TestLogRecord[]): unknown[] {
  return logs.map((l) => l.attributes?.['llm_governor.audit.kind']).filter((k) => k === 'call_completed' || k === 'call_failed');
}

/** A chat call to the simulator's OpenAI endpoint that succeeded: semconv names, the provider's usage, a cost. */
export function expectGovernedChat(span: TestSpan, model = 'gpt-4o-mini'): void {
  expect(span.name).toBe(`chat ${model}`);
  expect(span.attributes).toMatchObject({ 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': model, 'server.address': '127.0.0.1' });
  expect(span.attributes['gen_ai.response.model']).toMatch(new RegExp(`^${model}`));
  expect(span.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
  expect(span.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  expect(span.attributes['llm_governor.usage.estimated']).not.toBe(true);
  expect(span.attributes['llm_governor.cost.usd']).toBeGreaterThan(0);
}
