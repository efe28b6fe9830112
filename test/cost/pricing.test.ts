import { describe, expect, it } from 'vitest';
import { picoToUsd } from '../../src/cost/money';
import { PriceTable } from '../../src/cost/prices';
import { computeCost, type CostInput, maxOutputTokensWithin, worstCaseCost } from '../../src/cost/pricing';
import type { ProviderName } from '../../src/semconv';

const table = PriceTable.bundled();
const price = (provider: ProviderName, model: string) => {
  const hit = table.lookup(provider, model);
  if (!hit) throw new Error(`no price for ${provider}/${model}`);
  return hit.price;
};
const cost = (provider: ProviderName, model: string, input: Omit<CostInput, 'provider'>) => computeCost(price(provider, model), { provider, ...input });

// Every expected figure below is worked out by hand from the list price (USD per 1M tokens = pUSD per token / 1e6).
describe('computeCost: tokens', () => {
  it.each<[string, ProviderName, string, Omit<CostInput, 'provider'>, number, Record<string, number>]>([
    // 22 × $0.15/1M + 3 × $0.60/1M = 22 × 150 000 + 3 × 600 000
    ['gpt-4o-mini', 'openai', 'gpt-4o-mini', { operation: 'chat', usage: { inputTokens: 22, outputTokens: 3 } }, 5_100_000, { input: 3_300_000, output: 1_800_000 }],
    ['folded snapshot', 'openai', 'gpt-4o-mini-2099-12-31', { operation: 'chat', usage: { inputTokens: 22, outputTokens: 3 } }, 5_100_000, { input: 3_300_000, output: 1_800_000 }],
    ['dated snapshot', 'openai', 'gpt-4o-mini-2024-07-18', { operation: 'chat', usage: { inputTokens: 22, outputTokens: 3 } }, 5_100_000, { input: 3_300_000, output: 1_800_000 }],
    // gpt-4o: 1024 uncached × 2 500 000 + 1024 cached × 1 250 000 + 100 × 10 000 000
    [
      'cached input (gpt-4o)',
      'openai',
      'gpt-4o',
      { operation: 'chat', usage: { inputTokens: 2048, cachedInputTokens: 1024, outputTokens: 100 } },
      4_840_000_000,
      { input: 2_560_000_000, cached_input: 1_280_000_000, output: 1_000_000_000 },
    ],
    // o3: reasoning inside completion: 116 visible + 384 reasoning, all at $8/1M
    [
      'reasoning inside completion (o3)',
      'openai',
      'o3',
      { operation: 'chat', usage: { inputTokens: 1000, outputTokens: 500, reasoningTokens: 384 } },
      6_000_000_000,
      { input: 2_000_000_000, output: 928_000_000, reasoning: 3_072_000_000 },
    ],
    // gpt-5: 800 × 1 250 000 + 200 cached × 125 000 + 1000 × 10 000 000 (640 of them reasoning)
    [
      'reasoning + cache (gpt-5 Responses)',
      'openai',
      'gpt-5-2025-08-07',
      { operation: 'chat', usage: { inputTokens: 1000, cachedInputTokens: 200, outputTokens: 1000, reasoningTokens: 640 } },
      11_025_000_000,
      { input: 1_000_000_000, cached_input: 25_000_000, output: 3_600_000_000, reasoning: 6_400_000_000 },
    ],
    // xAI reports reasoning APART: 100 × 300 000 + (50 + 200) × 500 000
    [
      'xAI reasoning apart (grok-3-mini)',
      'x_ai',
      'grok-3-mini',
      { operation: 'chat', usage: { inputTokens: 100, outputTokens: 50, reasoningTokens: 200, cachedInputTokens: 0 } },
      155_000_000,
      { input: 30_000_000, output: 25_000_000, reasoning: 100_000_000 },
    ],
    // grok-4-0709 (exact) 3/15: 1000 × 3 000 000 + 10 × 15 000 000 + 90 reasoning × 15 000 000
    [
      'xAI grok-4',
      'x_ai',
      'grok-4-0709',
      { operation: 'chat', usage: { inputTokens: 1000, outputTokens: 10, reasoningTokens: 90 } },
      4_500_000_000,
      { input: 3_000_000_000, output: 150_000_000, reasoning: 1_350_000_000 },
    ],
    // Azure list: gpt-4o-mini $0.165 / $0.66
    ['Azure own table', 'azure.ai.openai', 'gpt-4o-mini', { operation: 'chat', usage: { inputTokens: 22, outputTokens: 3 } }, 5_610_000, { input: 3_630_000, output: 1_980_000 }],
    // Azure model only in the OpenAI list: o1-pro $150 / $600
    ['Azure → OpenAI list price', 'azure.ai.openai', 'o1-pro', { operation: 'chat', usage: { inputTokens: 10, outputTokens: 10 } }, 7_500_000_000, { input: 1_500_000_000, output: 6_000_000_000 }],
    // text-embedding-3-small $0.02/1M, input only
    ['embeddings', 'openai', 'text-embedding-3-small', { operation: 'embeddings', usage: { inputTokens: 1000, outputTokens: 5 } }, 20_000_000, { input: 20_000_000 }],
    ['moderation is free', 'openai', 'omni-moderation-latest', { operation: 'moderation', usage: { inputTokens: 5000 } }, 0, {}],
    // gpt-4o-audio-preview: text 2.5/10, audio 40/80; 300 in incl. 200 audio; 500 out incl. 400 audio
    [
      'audio tokens',
      'openai',
      'gpt-4o-audio-preview',
      { operation: 'chat', usage: { inputTokens: 300, audioInputTokens: 200, outputTokens: 500, audioOutputTokens: 400 } },
      41_250_000_000,
      { input: 250_000_000, audio_input: 8_000_000_000, output: 1_000_000_000, audio_output: 32_000_000_000 },
    ],
    // gpt-5.6: cache writes reported apart: 1000 in = 600 text + 100 cached + 300 written; $5 / $0.5 / $6.25
    [
      'cache writes',
      'openai',
      'gpt-5.6',
      { operation: 'chat', usage: { inputTokens: 1000, cachedInputTokens: 100, cacheWriteInputTokens: 300 } },
      4_925_000_000,
      { input: 3_000_000_000, cached_input: 50_000_000, cache_write: 1_875_000_000 },
    ],
  ])('%s', (_name, provider, model, input, pico, parts) => {
    const c = cost(provider, model, input);
    expect(c.parts).toEqual(parts);
    expect(c.pico).toBe(pico);
    expect(Number.isInteger(c.pico)).toBe(true);
  });

  it('is $0.0000051 for 22 + 3 tokens of gpt-4o-mini', () => {
    expect(picoToUsd(cost('openai', 'gpt-4o-mini', { operation: 'chat', usage: { inputTokens: 22, outputTokens: 3 } }).pico)).toBeCloseTo(0.0000051, 15);
  });
});

describe('computeCost: service tiers', () => {
  it.each<[string, string, string | undefined, number]>([
    // gpt-4o-mini priority $0.25 / $1.00: 22 × 250 000 + 3 × 1 000 000
    ['priority', 'gpt-4o-mini', 'priority', 8_500_000],
    ['default', 'gpt-4o-mini', 'default', 5_100_000],
    ['scale (no price: standard)', 'gpt-4o-mini', 'scale', 5_100_000],
    // gpt-4o batch $1.25 / $5
    ['batch', 'gpt-4o', 'batch', 22 * 1_250_000 + 3 * 5_000_000],
    // o3 flex $1 / $4
    ['flex', 'o3', 'flex', 22 * 1_000_000 + 3 * 4_000_000],
    // gpt-4o-mini has no flex price: standard
    ['flex without a flex price', 'gpt-4o-mini', 'flex', 5_100_000],
  ])('%s', (_name, model, serviceTier, pico) => {
    expect(cost('openai', model, { operation: 'chat', serviceTier, usage: { inputTokens: 22, outputTokens: 3 } }).pico).toBe(pico);
  });

  it('bills cached tokens at the tier cached price (o3 flex $0.25)', () => {
    const c = cost('openai', 'o3', { operation: 'chat', serviceTier: 'flex', usage: { inputTokens: 2000, cachedInputTokens: 1000, outputTokens: 0 } });
    expect(c.parts).toEqual({ input: 1_000_000_000, cached_input: 250_000_000 });
  });
});

describe('computeCost: long context', () => {
  const usage = { inputTokens: 300_000, cachedInputTokens: 100_000, outputTokens: 1000 };
  it.each<[string, ProviderName, string, string | undefined, CostInput['usage'], number]>([
    // gpt-5.4 above 272k: $5 / $22.5 / cached $0.5 for the whole call
    ['gpt-5.4 above 272k', 'openai', 'gpt-5.4', undefined, usage, 200_000 * 5_000_000 + 100_000 * 500_000 + 1000 * 22_500_000],
    // exactly 272 000 is not above: standard $2.5 / $15
    ['gpt-5.4 at 272k', 'openai', 'gpt-5.4', undefined, { inputTokens: 272_000, outputTokens: 1000 }, 272_000 * 2_500_000 + 1000 * 15_000_000],
    // Azure lists priority above 272k: $10 / $45 / cached $1
    ['Azure gpt-5.4 priority above 272k', 'azure.ai.openai', 'gpt-5.4', 'priority', usage, 200_000 * 10_000_000 + 100_000 * 1_000_000 + 1000 * 45_000_000],
    // OpenAI lists no priority-above-272k price: the higher of priority ($5/$30/$0.5) and long context ($5/$22.5/$0.5)
    ['OpenAI gpt-5.4 priority above 272k', 'openai', 'gpt-5.4', 'priority', usage, 200_000 * 5_000_000 + 100_000 * 500_000 + 1000 * 30_000_000],
    // grok-4 above 128k: $6 / $30
    ['grok-4-0709 above 128k', 'x_ai', 'grok-4-0709', undefined, { inputTokens: 130_000, outputTokens: 100 }, 130_000 * 6_000_000 + 100 * 30_000_000],
    // grok-4.3 above 200k: $2.5 / $5 / cached $0.4
    ['grok-4.3 above 200k', 'x_ai', 'grok-4.3', undefined, { inputTokens: 250_000, cachedInputTokens: 50_000, outputTokens: 10 }, 200_000 * 2_500_000 + 50_000 * 400_000 + 10 * 5_000_000],
  ])('%s', (_name, provider, model, serviceTier, u, pico) => {
    expect(cost(provider, model, { operation: 'chat', serviceTier, usage: u }).pico).toBe(pico);
  });
});

describe('computeCost: images, audio, speech', () => {
  it.each<[string, string, CostInput['images'], number]>([
    ['dall-e-3 standard 1024x1024 = $0.04', 'dall-e-3', { count: 1, size: '1024x1024', quality: 'standard' }, 40_000_000_000],
    ['dall-e-3 default quality is standard', 'dall-e-3', { count: 1, size: '1024x1024' }, 40_000_000_000],
    ['dall-e-3 hd 1024x1792 = $0.12', 'dall-e-3', { count: 1, size: '1024x1792', quality: 'hd' }, 120_000_000_000],
    ['dall-e-3 hd 1792x1024 × 3, "-x-" size', 'dall-e-3', { count: 3, size: '1792-x-1024', quality: 'HD' }, 360_000_000_000],
    ['dall-e-3 unknown size: the "*" default', 'dall-e-3', { count: 1, size: '640x640' }, 40_000_000_000],
    ['dall-e-2 512x512 = $0.018', 'dall-e-2', { count: 2, size: '512x512', quality: 'standard' }, 36_000_000_000],
    ['dall-e-2 no size: 1024x1024 = $0.02', 'dall-e-2', { count: 1 }, 20_000_000_000],
    ['gpt-image-1 medium 1536x1024 without usage = $0.063', 'gpt-image-1', { count: 1, size: '1536x1024', quality: 'medium' }, 63_000_000_000],
    ['gpt-image-1 quality auto without usage: the dearest for that size', 'gpt-image-1', { count: 1, size: '1024x1024', quality: 'auto' }, 167_000_000_000],
  ])('%s', (_name, model, images, pico) => {
    const c = cost('openai', model, { operation: 'image_generation', usage: {}, images });
    expect(c).toEqual({ pico, parts: { images: pico } });
  });

  it('bills gpt-image-1 by tokens when usage is reported (text $5, image in $10, image out $40)', () => {
    const gen = cost('openai', 'gpt-image-1', { operation: 'image_generation', usage: { inputTokens: 50, outputTokens: 4160 }, images: { count: 1, size: '1024x1024', quality: 'high' } });
    expect(gen).toEqual({ pico: 166_650_000_000, parts: { input: 250_000_000, image_output: 166_400_000_000 } });
    const edit = cost('openai', 'gpt-image-1', { operation: 'image_edit', usage: { inputTokens: 1050, imageInputTokens: 1000, outputTokens: 4160 } });
    expect(edit).toEqual({ pico: 176_650_000_000, parts: { input: 250_000_000, image_input: 10_000_000_000, image_output: 166_400_000_000 } });
  });

  it('bills whisper by the second ($0.0001/s: a minute is $0.006)', () => {
    expect(cost('openai', 'whisper-1', { operation: 'audio_transcription', usage: { audioSeconds: 60 } })).toEqual({ pico: 6_000_000_000, parts: { audio_seconds: 6_000_000_000 } });
    expect(cost('openai', 'whisper-1', { operation: 'audio_translation', usage: { audioSeconds: 2.4 } }).pico).toBe(200_000_000);
    expect(cost('azure.ai.openai', 'whisper-1', { operation: 'audio_transcription', usage: { audioSeconds: 0.2 } }).pico).toBe(100_000_000);
  });

  it('bills gpt-4o-transcribe by tokens (audio $2.5, text out $10)', () => {
    const c = cost('openai', 'gpt-4o-transcribe', { operation: 'audio_transcription', usage: { inputTokens: 500, audioInputTokens: 480, outputTokens: 40 } });
    expect(c).toEqual({ pico: 1_650_000_000, parts: { input: 50_000_000, audio_input: 1_200_000_000, output: 400_000_000 } });
  });

  it('bills tts by characters (tts-1 $15/1M, tts-1-hd $30/1M)', () => {
    expect(cost('openai', 'tts-1', { operation: 'text_to_speech', usage: {}, characters: 1000 })).toEqual({ pico: 15_000_000_000, parts: { characters: 15_000_000_000 } });
    expect(cost('openai', 'tts-1-hd', { operation: 'text_to_speech', usage: {}, characters: 1000 }).pico).toBe(30_000_000_000);
  });

  it('bills gpt-4o-mini-tts output tokens as audio', () => {
    // list: text in $2.5, audio out $12
    const c = cost('openai', 'gpt-4o-mini-tts', { operation: 'text_to_speech', usage: { inputTokens: 10, outputTokens: 1000 }, characters: 40 });
    expect(c.parts).toEqual({ input: 25_000_000, audio_output: 12_000_000_000 });
  });
});

describe('worstCaseCost', () => {
  const p = (m: string, provider: ProviderName = 'openai') => price(provider, m);
  it.each<[string, ProviderName, string, Parameters<typeof worstCaseCost>[1], number]>([
    ['gpt-4o-mini, max 100', 'openai', 'gpt-4o-mini', { operation: 'chat', inputTokens: 1000, maxOutputTokens: 100 }, 1000 * 150_000 + 100 * 600_000],
    ['gpt-4o-mini, the model max (16384)', 'openai', 'gpt-4o-mini', { operation: 'chat', inputTokens: 1000 }, 1000 * 150_000 + 16384 * 600_000],
    ['gpt-4o-mini priority', 'openai', 'gpt-4o-mini', { operation: 'chat', inputTokens: 1000, maxOutputTokens: 100, serviceTier: 'priority' }, 1000 * 250_000 + 100 * 1_000_000],
    ['gpt-5.4 long context', 'openai', 'gpt-5.4', { operation: 'chat', inputTokens: 300_000, maxOutputTokens: 1000 }, 300_000 * 5_000_000 + 1000 * 22_500_000],
    ['embeddings: input only', 'openai', 'text-embedding-3-small', { operation: 'embeddings', inputTokens: 1000 }, 20_000_000],
    ['moderation', 'openai', 'omni-moderation-latest', { operation: 'moderation', inputTokens: 1000 }, 0],
    ['dall-e-3, default quality', 'openai', 'dall-e-3', { operation: 'image_generation', inputTokens: 20, images: { count: 2, size: '1024x1792' } }, 2 * 80_000_000_000],
    ['dall-e-3, nothing known: dearest standard', 'openai', 'dall-e-3', { operation: 'image_generation', inputTokens: 20 }, 80_000_000_000],
    [
      'gpt-image-1, quality auto',
      'openai',
      'gpt-image-1',
      { operation: 'image_generation', inputTokens: 20, images: { count: 1, size: '1024x1024', quality: 'auto' } },
      20 * 5_000_000 + 167_000_000_000,
    ],
    ['gpt-image-1, nothing known', 'openai', 'gpt-image-1', { operation: 'image_generation', inputTokens: 0 }, 250_000_000_000],
    ['whisper seconds', 'openai', 'whisper-1', { operation: 'audio_transcription', inputTokens: 0, audioSeconds: 30 }, 3_000_000_000],
    ['tts characters', 'openai', 'tts-1', { operation: 'text_to_speech', inputTokens: 0, characters: 2000 }, 30_000_000_000],
    ['xAI grok-4 above 128k', 'x_ai', 'grok-4-0709', { operation: 'chat', inputTokens: 200_000, maxOutputTokens: 10 }, 200_000 * 6_000_000 + 10 * 30_000_000],
  ])('%s', (_name, provider, model, w, pico) => {
    expect(worstCaseCost(p(model, provider), w)).toBe(pico);
  });

  it('assumes 4096 output tokens when no limit is known', () => {
    const t = table.withOverrides({ 'openai/house-model': { input: 1, output: 2 } });
    expect(worstCaseCost(t.lookup('openai', 'house-model')!.price, { operation: 'chat', inputTokens: 10 })).toBe(10 * 1_000_000 + 4096 * 2_000_000);
  });

  it('is never below the actual cost of a call within the limits', () => {
    const pr = p('gpt-4o');
    const actual = computeCost(pr, { provider: 'openai', operation: 'chat', usage: { inputTokens: 900, cachedInputTokens: 500, outputTokens: 100 } });
    expect(worstCaseCost(pr, { operation: 'chat', inputTokens: 900, maxOutputTokens: 100 })).toBeGreaterThanOrEqual(actual.pico);
  });
});

describe('maxOutputTokensWithin', () => {
  const mini = () => price('openai', 'gpt-4o-mini');
  it.each<[string, number, number, string | undefined, number]>([
    ['exactly 100 tokens', 1000 * 150_000 + 100 * 600_000, 1000, undefined, 100],
    ['one pUSD short of 101', 1000 * 150_000 + 101 * 600_000 - 1, 1000, undefined, 100],
    ['101', 1000 * 150_000 + 101 * 600_000, 1000, undefined, 101],
    ['input alone does not fit', 1000 * 150_000 - 1, 1000, undefined, 0],
    ['input just fits', 1000 * 150_000, 1000, undefined, 0],
    ['capped at the model max', 1e15, 1000, undefined, 16384],
    ['priority tier', 1000 * 250_000 + 100 * 1_000_000, 1000, 'priority', 100],
  ])('%s', (_name, budget, inputTokens, tier, expected) => {
    expect(maxOutputTokensWithin(mini(), budget, inputTokens, tier)).toBe(expected);
  });

  it('agrees with worstCaseCost', () => {
    const pr = price('openai', 'o3');
    const budget = 123_456_789_012;
    const n = maxOutputTokensWithin(pr, budget, 5000);
    expect(worstCaseCost(pr, { operation: 'chat', inputTokens: 5000, maxOutputTokens: n })).toBeLessThanOrEqual(budget);
    expect(worstCaseCost(pr, { operation: 'chat', inputTokens: 5000, maxOutputTokens: n + 1 })).toBeGreaterThan(budget);
  });
});
