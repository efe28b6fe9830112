import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { startOtlpReceiver } from '../helpers/otlp';
import { REPO, runApp, telemetryEnv, type AppRun } from '../helpers/run-app';

const APP = resolve(REPO, 'test/fixtures/helpers-app.cjs');
const transcript = (run: AppRun) =>
  run.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 13 });
});
afterAll(async () => sim?.close());

async function run(env: Record<string, string>, nodeArgs: string[] = []) {
  const otlp = await startOtlpReceiver();
  try {
    const bare = await runApp({ script: APP, preload: 'none', nodeArgs, env: { SIM_URL: sim.url, ...env } });
    const inst = await runApp({ script: APP, preload: 'require', nodeArgs, env: { SIM_URL: sim.url, ...env, ...telemetryEnv(otlp.url) } });
    return { bare, inst, spans: [...otlp.spans], raw: otlp.raw.map((r) => r.text).join('\n') };
  } finally {
    await otlp.close();
  }
}

describe('SDK helpers and multipart operations', () => {
  it('behave as without the preload, with one span per underlying call', async () => {
    const { bare, inst, spans } = await run({ CASES: 'streamHelper,runTools,transcription,imageEdit' });
    expect(inst.code).toBe(0);
    expect(transcript(inst)).toEqual(transcript(bare));
    expect(transcript(bare).filter((l) => l.unexpected)).toEqual([]);
    const ops = spans.map((s) => s.attributes['gen_ai.operation.name']);
    // stream(): 1 call; runTools: a tool call then the answer = 2 calls; then transcription and edit.
    expect(ops).toEqual(['chat', 'chat', 'chat', 'audio_transcription', 'image_edit']);
    const helperStream = spans[0];
    expect(helperStream.attributes['llm_governor.stream.outcome']).toBe('completed');
    expect(helperStream.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(helperStream.attributes['llm_governor.usage.estimated']).toBeUndefined();
    expect(spans[1].attributes['gen_ai.response.finish_reasons']).toEqual(['tool_calls']);
    expect(spans[3].attributes['gen_ai.request.model']).toBe('whisper-1');
    expect(spans[4].attributes['gen_ai.request.model']).toBe('gpt-image-1');
  });

  it('ends the span of a stream that is never read, once it is garbage', async () => {
    const { inst, spans } = await run({ CASES: 'unreadStream' }, ['--expose-gc']);
    expect(inst.code).toBe(0);
    expect(spans).toHaveLength(1);
    expect(spans[0].attributes['llm_governor.stream.outcome']).toBe('unread');
  });
});

describe('content capture', () => {
  it('is off by default: no prompt or completion text anywhere', async () => {
    const { raw } = await run({ CASES: 'streamHelper' });
    expect(raw).not.toContain('PINEAPPLE');
    expect(raw).not.toContain('gen_ai.input.messages');
  });

  it('records prompts and completions when OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true, and still no key', async () => {
    const { spans, raw } = await run({ CASES: 'streamHelper,transcription', OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' });
    const input = JSON.parse(spans[0].attributes['gen_ai.input.messages'] as string);
    expect(input).toEqual([{ role: 'user', parts: [{ type: 'text', content: expect.stringContaining('PINEAPPLE') }] }]);
    const output = JSON.parse(spans[0].attributes['gen_ai.output.messages'] as string);
    expect(output[0]).toMatchObject({ role: 'assistant', parts: [{ type: 'text', content: expect.any(String) }] });
    expect(output[0].parts[0].content.length).toBeGreaterThan(0);
    expect(raw).not.toContain('sk-test-helpers');
  });
});
