import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { solidPng } from '../../src/simulator/png';
import { countTokens } from '../../src/simulator/tokens';
import { openai, wavFile } from './helpers';

let sim: Simulator;
let client: OpenAI;
beforeAll(async () => {
  sim = await startSimulator({ seed: 9 });
  client = openai(sim);
});
afterAll(() => sim.close());

function pngSize(png: Buffer): [number, number] {
  expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  return [png.readUInt32BE(16), png.readUInt32BE(20)];
}

describe('images', () => {
  it('generates gpt-image-1 pictures as b64_json with token usage', async () => {
    const res = await client.images.generate({ model: 'gpt-image-1', prompt: 'a red fox in the snow', n: 2, size: '1024x1536', quality: 'high' });
    expect(res.data).toHaveLength(2);
    expect(pngSize(Buffer.from(res.data![0]!.b64_json!, 'base64'))).toEqual([1024, 1536]);
    const text = countTokens('a red fox in the snow', 'o200k_base');
    expect(res.usage).toEqual({
      total_tokens: text + 2 * 6240,
      input_tokens: text,
      output_tokens: 2 * 6240,
      input_tokens_details: { text_tokens: text, image_tokens: 0 },
    });
    expect(res.size).toBe('1024x1536');
    expect(res.quality).toBe('high');
  });

  it('serves dall-e URLs from the simulator, and b64_json on request', async () => {
    const res = await client.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse', size: '1792x1024' });
    expect(res.usage).toBeUndefined();
    expect(res.data![0]!.revised_prompt).toContain('a lighthouse');
    const png = Buffer.from(await (await fetch(res.data![0]!.url!)).arrayBuffer());
    expect(pngSize(png)).toEqual([1792, 1024]);
    const b64 = await client.images.generate({ model: 'dall-e-2', prompt: 'x', size: '256x256', response_format: 'b64_json', n: 3 });
    expect(b64.data!.map((d) => pngSize(Buffer.from(d.b64_json!, 'base64')))).toEqual([
      [256, 256],
      [256, 256],
      [256, 256],
    ]);
  });

  it('edits from a multipart upload; only the non-file fields are recorded', async () => {
    sim.reset();
    const image = await toFile(solidPng(4, 4, [1, 2, 3]), 'in.png', { type: 'image/png' });
    const res = await client.images.edit({ model: 'gpt-image-1', image, prompt: 'make it blue' });
    expect(res.data![0]!.b64_json).toBeTruthy();
    expect(res.usage!.input_tokens_details).toEqual({ text_tokens: countTokens('make it blue', 'o200k_base'), image_tokens: 255 });
    const [recorded] = sim.requests();
    expect(recorded!.path).toBe('/v1/images/edits');
    expect(recorded!.model).toBe('gpt-image-1');
    expect(recorded!.body).toEqual({ model: 'gpt-image-1', prompt: 'make it blue' });
  });
});

describe('audio', () => {
  it('transcribes with whisper-1: json with duration usage, verbose_json, text', async () => {
    const file = await toFile(wavFile(4), 'talk.wav', { type: 'audio/wav' });
    const json = await client.audio.transcriptions.create({ file, model: 'whisper-1' });
    expect(json.text.split(' ').length).toBe(10);
    expect(json.usage).toEqual({ type: 'duration', seconds: 4 });
    const verbose = await client.audio.transcriptions.create({ file: await toFile(wavFile(4), 'talk.wav'), model: 'whisper-1', response_format: 'verbose_json', timestamp_granularities: ['word'] });
    expect(verbose.duration).toBe(4);
    expect(verbose.text).toBe(json.text);
    expect(verbose.segments!.at(-1)!.end).toBeCloseTo(4, 1);
    expect(verbose.words).toHaveLength(10);
    const text = await client.audio.transcriptions.create({ file: await toFile(wavFile(4), 'talk.wav'), model: 'whisper-1', response_format: 'text' });
    expect(text).toBe(`${json.text}\n`);
  });

  it('reports token usage for gpt-4o-transcribe', async () => {
    const res = await client.audio.transcriptions.create({ file: await toFile(wavFile(3), 'a.wav'), model: 'gpt-4o-transcribe', prompt: 'Names: Ada' });
    const usage = res.usage as any;
    expect(usage.type).toBe('tokens');
    expect(usage.input_token_details).toEqual({ text_tokens: countTokens('Names: Ada', 'o200k_base'), audio_tokens: 30 });
    expect(usage.output_tokens).toBe(countTokens(res.text, 'o200k_base'));
    expect(usage.total_tokens).toBe(usage.input_tokens + usage.output_tokens);
  });

  it('translates', async () => {
    const res = await client.audio.translations.create({ file: await toFile(wavFile(2), 'a.wav'), model: 'whisper-1' });
    expect(res.text.length).toBeGreaterThan(0);
  });

  it('speaks: binary audio whose size follows the input length', async () => {
    const short = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there.' });
    const long = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input: 'Hello there. '.repeat(20) });
    expect(short.headers.get('content-type')).toBe('audio/mpeg');
    const shortBytes = (await short.arrayBuffer()).byteLength;
    const longBytes = (await long.arrayBuffer()).byteLength;
    expect(longBytes).toBeGreaterThan(shortBytes * 10);
    const wav = Buffer.from(await (await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'nova', input: 'x'.repeat(60), response_format: 'wav' })).arrayBuffer());
    const heard = await client.audio.transcriptions.create({ file: await toFile(wav, 'speech.wav'), model: 'whisper-1' });
    expect(heard.usage).toEqual({ type: 'duration', seconds: 4 });
  });
});

describe('moderations', () => {
  it('flags violent text deterministically and passes harmless text', async () => {
    const res = await client.moderations.create({ model: 'omni-moderation-latest', input: ['I will kill you with a bomb', 'What a lovely morning'] });
    expect(res.id).toMatch(/^modr-/);
    expect(res.results).toHaveLength(2);
    const [bad, good] = res.results;
    expect(bad!.flagged).toBe(true);
    expect(bad!.categories.violence).toBe(true);
    expect(bad!.category_scores.violence).toBeGreaterThan(0.9);
    expect(bad!.category_applied_input_types!.violence).toEqual(['text']);
    expect(good!.flagged).toBe(false);
    expect(good!.category_scores.violence).toBeLessThan(0.01);
    const again = await client.moderations.create({ model: 'omni-moderation-latest', input: 'I will kill you with a bomb' });
    expect(again.results[0]!.category_scores).toEqual(bad!.category_scores);
  });
});

describe('legacy completions', () => {
  it('defaults to 16 tokens and finish_reason length', async () => {
    const res = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test' });
    expect(res.object).toBe('text_completion');
    expect(res.model).toBe('gpt-3.5-turbo-instruct:20230824-v2');
    expect(res.choices[0]!.finish_reason).toBe('length');
    expect(res.usage).toEqual({ prompt_tokens: 5, completion_tokens: 16, total_tokens: 21 });
  });

  it('streams, with usage only when include_usage is set', async () => {
    let text = '';
    let usage: unknown;
    for await (const chunk of await client.completions.create({
      model: 'gpt-3.5-turbo-instruct',
      prompt: 'Say this is a test',
      max_tokens: 30,
      stream: true,
      stream_options: { include_usage: true },
    })) {
      text += chunk.choices[0]?.text ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    const plain = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say this is a test', max_tokens: 30 });
    expect(text).toBe(plain.choices[0]!.text);
    expect(usage).toEqual(plain.usage);
    for await (const chunk of await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'x', stream: true })) {
      expect(chunk.usage).toBeUndefined();
    }
  });

  it('answers every prompt of a batch, n times', async () => {
    const res = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: ['a', 'b'], n: 2 });
    expect(res.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
  });
});

describe('models', () => {
  it('lists and retrieves models', async () => {
    const ids = [];
    for await (const m of client.models.list()) ids.push(m.id);
    expect(ids).toContain('gpt-4o-mini');
    expect((await client.models.retrieve('gpt-4o-mini')).id).toBe('gpt-4o-mini');
  });
});
