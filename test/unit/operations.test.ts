import { describe, expect, it } from 'vitest';
import { operationForPath } from '../../src/operations';
import { readUsage } from '../../src/operations/usage';
import { newRecord } from '../../src/operations/record';
import { isTestedVersion } from '../../src/instrumentation/versions';

describe('operationForPath', () => {
  it.each([
    ['/chat/completions', 'chat'],
    ['/responses', 'chat'],
    ['/completions', 'text_completion'],
    ['/embeddings', 'embeddings'],
    ['/images/generations', 'image_generation'],
    ['/images/edits', 'image_edit'],
    ['/audio/transcriptions', 'audio_transcription'],
    ['/audio/translations', 'audio_translation'],
    ['/audio/speech', 'text_to_speech'],
    ['/moderations', 'moderation'],
  ])('%s → %s', (path, name) => expect(operationForPath(path)?.name).toBe(name));
  it.each(['/files', '/batches', '/models', 42, undefined])('%s passes through', (path) => expect(operationForPath(path)).toBeUndefined());
});

describe('readUsage', () => {
  it.each([
    [
      'chat',
      { prompt_tokens: 22, completion_tokens: 3, total_tokens: 25, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
      { inputTokens: 22, outputTokens: 3, cachedInputTokens: 0, reasoningTokens: 0 },
    ],
    [
      'responses',
      { input_tokens: 10, output_tokens: 20, input_tokens_details: { cached_tokens: 4 }, output_tokens_details: { reasoning_tokens: 7 } },
      { inputTokens: 10, outputTokens: 20, cachedInputTokens: 4, reasoningTokens: 7 },
    ],
    ['embeddings', { prompt_tokens: 8, total_tokens: 8 }, { inputTokens: 8 }],
    ['whisper duration', { type: 'duration', seconds: 12.5 }, { audioSeconds: 12.5 }],
    ['image tokens', { input_tokens: 50, output_tokens: 4160, input_tokens_details: { text_tokens: 40, image_tokens: 10 } }, { inputTokens: 50, outputTokens: 4160, imageInputTokens: 10 }],
  ])('%s', (_n, raw, expected) => {
    const u = readUsage(raw)!;
    for (const [k, v] of Object.entries(expected)) expect(u[k as keyof typeof u]).toBe(v);
  });
  it.each([null, undefined, {}, { total_tokens: 'x' }])('no usage in %j', (raw) => expect(readUsage(raw as never)).toBeUndefined());
});

describe('chat stream usage', () => {
  const op = operationForPath('/chat/completions')!;
  it('asks a stream for usage in a copy, never in the caller object', () => {
    const body = Object.freeze({ model: 'm', stream: true, messages: [] });
    const copy = op.withStreamUsage!(body)!;
    expect(copy).toEqual({ model: 'm', stream: true, messages: [], stream_options: { include_usage: true } });
    expect(body).not.toHaveProperty('stream_options');
  });
  it('does nothing for non-streams or when the app already asked', () => {
    expect(op.withStreamUsage!({ stream: false })).toBeUndefined();
    expect(op.withStreamUsage!({ stream: true, stream_options: { include_usage: true } })).toBeUndefined();
  });
  it('hides the usage-only chunk and the usage:null key only when we asked', () => {
    const rec = newRecord('chat', 'openai', {});
    rec.usageInjected = true;
    const chunk = { id: 'a', model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, delta: { content: 'Hi' } }], usage: null };
    rec.chunks = 1;
    expect(op.stream!.chunk(chunk, rec)).toBe(false);
    expect(chunk).not.toHaveProperty('usage');
    expect(op.stream!.chunk({ id: 'a', choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 } }, rec)).toBe(true);
    expect(rec.usage).toMatchObject({ inputTokens: 5, outputTokens: 1 });
    const own = newRecord('chat', 'openai', {});
    expect(op.stream!.chunk({ id: 'a', choices: [], usage: { prompt_tokens: 5, completion_tokens: 1 } }, own)).toBe(false);
  });
});

describe('isTestedVersion', () => {
  it.each([
    ['4.19.9', false],
    ['4.20.0', true],
    ['4.104.0', true],
    ['5.23.2', true],
    ['6.49.0', true],
    ['7.57.0', true],
    ['8.0.0', false],
    ['3.3.0', false],
    [undefined, false],
  ])('%s → %s', (v, ok) => expect(isTestedVersion(v)).toBe(ok));
});
