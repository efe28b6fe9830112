import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foldSnapshot, PriceTable } from '../../src/cost/prices';

const REPO = resolve(__dirname, '../..');
const table = PriceTable.bundled();

describe('data/prices.json', () => {
  const file = JSON.parse(readFileSync(join(REPO, 'data/prices.json'), 'utf8'));

  it('is versioned, says where it came from and its units', () => {
    expect(file.version).toBe('2026-07-24.1');
    expect(file.generated_from).toContain('model-prices-openai-azure-xai.json');
    expect(file.generated_from).toContain('2026-07-24');
    expect(file.units).toMatch(/per 1M tokens/);
    expect(Object.keys(file.providers).sort()).toEqual(['azure.ai.openai', 'openai', 'x_ai']);
  });

  it('has a source and a date on every entry, and no float noise', () => {
    for (const models of Object.values<Record<string, Record<string, unknown>>>(file.providers)) {
      for (const entry of Object.values(models)) {
        expect(typeof entry.source).toBe('string');
        expect(entry.as_of).toBe('2026-07-24');
      }
    }
    expect(file.providers.openai['gpt-4o-mini']).toMatchObject({ input: 0.15, output: 0.6, cached_input: 0.075 });
    expect(file.providers.x_ai['grok-4-0709'].source).toBe('https://docs.x.ai/docs/models');
    expect(JSON.stringify(file)).not.toMatch(/\d\.\d*0000000\d|\d\.\d*9999999\d/);
  });

  it('turns per-pixel image prices into round per-image prices', () => {
    expect(file.providers.openai['dall-e-3'].per_image).toEqual({
      '*': 0.04,
      'standard/1024x1024': 0.04,
      'standard/1024x1792': 0.08,
      'standard/1792x1024': 0.08,
      'hd/1024x1024': 0.08,
      'hd/1024x1792': 0.12,
      'hd/1792x1024': 0.12,
    });
    expect(file.providers.openai['dall-e-2'].per_image).toEqual({ '*': 0.02, '1024x1024': 0.02, '512x512': 0.018, '256x256': 0.016 });
    expect(file.providers.openai['gpt-image-1'].per_image['high/1024x1536']).toBe(0.25);
    expect(file.providers['azure.ai.openai']['gpt-image-1'].per_image['low/1024x1024']).toBe(0.011);
  });

  it('keeps moderation at 0 and skips what has no price we model (video)', () => {
    expect(file.providers.openai['omni-moderation-latest']).toMatchObject({ input: 0, output: 0, mode: 'moderation' });
    expect(file.providers.openai['sora-2']).toBeUndefined();
  });

  it('is what the build script writes, byte for byte (deterministic)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'prices-')), 'prices.json');
    const reference = resolve(REPO, 'scripts/prices-source/model-prices-openai-azure-xai.json');
    execFileSync(process.execPath, [join(REPO, 'scripts/build-prices.mjs'), reference, out]);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(REPO, 'data/prices.json'), 'utf8'));
  });
});

describe('foldSnapshot', () => {
  it.each([
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['gpt-4-0613', 'gpt-4'],
    ['o3-2025-04-16', 'o3'],
    ['grok-4-0709', 'grok-4'],
    ['gpt-3.5-turbo-1106', 'gpt-3.5-turbo'],
    ['gpt-4o-20240806', 'gpt-4o'],
    ['gpt-3.5-turbo-instruct:20230824-v2', 'gpt-3.5-turbo-instruct'],
    ['ft:gpt-4o-mini-2024-07-18:acme::abc123', 'ft:gpt-4o-mini-2024-07-18'],
    ['gpt-4o-mini', undefined],
    ['o3', undefined],
    ['text-embedding-3-small', undefined],
    ['grok-4.20-beta-0309-reasoning', undefined],
  ])('%s → %s', (model, base) => {
    expect(foldSnapshot(model)).toBe(base);
  });
});

describe('PriceTable.lookup', () => {
  it('finds an exact model, case-insensitively, with integer pUSD per token', () => {
    const hit = table.lookup('openai', 'GPT-4o-mini')!;
    expect(hit).toMatchObject({ matchedModel: 'gpt-4o-mini', folded: false });
    expect(hit.price).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', input: 150_000, output: 600_000, cachedInput: 75_000, asOf: '2026-07-24' });
    expect(hit.price.tiers?.priority).toEqual({ input: 250_000, output: 1_000_000, cachedInput: 125_000 });
    expect(hit.price.maxOutputTokens).toBe(16384);
  });

  it('folds a dated snapshot onto its base model', () => {
    const hit = table.lookup('openai', 'gpt-4o-mini-2099-01-01')!;
    expect(hit).toMatchObject({ matchedModel: 'gpt-4o-mini', folded: true });
    expect(hit.price.input).toBe(150_000);
    expect(table.lookup('x_ai', 'grok-3-mini-0101')).toMatchObject({ matchedModel: 'grok-3-mini', folded: true });
  });

  it('prefers the exact snapshot when it is listed (gpt-4o-2024-05-13 is dearer than gpt-4o)', () => {
    expect(table.lookup('openai', 'gpt-4o-2024-05-13')!.price.input).toBe(5_000_000);
    expect(table.lookup('openai', 'gpt-4o')!.price.input).toBe(2_500_000);
  });

  it('prices Azure from its own table, then from the OpenAI list', () => {
    expect(table.lookup('azure.ai.openai', 'gpt-4o-mini')).toMatchObject({ folded: false, price: { provider: 'azure.ai.openai', input: 165_000 } });
    expect(table.lookup('azure.ai.openai', 'gpt-4o-mini')!.fallback).toBeUndefined();
    const fb = table.lookup('azure.ai.openai', 'o1-pro')!;
    expect(fb).toMatchObject({ matchedModel: 'o1-pro', fallback: 'openai-list-price', price: { provider: 'openai', output: 600_000_000 } });
    expect(table.lookup('azure.ai.openai', 'o1-pro-2099-01-01')).toMatchObject({ folded: true, fallback: 'openai-list-price' });
  });

  it('gives undefined for an unknown or missing model, and does not cross OpenAI → xAI', () => {
    expect(table.lookup('openai', 'no-such-model')).toBeUndefined();
    expect(table.lookup('openai', undefined)).toBeUndefined();
    expect(table.lookup('x_ai', 'gpt-4o-mini')).toBeUndefined();
    expect(table.lookup('openai', 'grok-4')).toBeUndefined();
  });

  it('returns the same object on repeated lookups (cached)', () => {
    expect(table.lookup('openai', 'gpt-4o-mini-2024-07-18')).toBe(table.lookup('openai', 'gpt-4o-mini-2024-07-18'));
  });

  it('reads long-context and tier prices', () => {
    const p = table.lookup('azure.ai.openai', 'gpt-5.4')!.price;
    expect(p.longContext).toEqual([
      { aboveTokens: 272_000, input: 5_000_000, output: 22_500_000, cachedInput: 500_000, tiers: { priority: { input: 10_000_000, output: 45_000_000, cachedInput: 1_000_000 } } },
    ]);
    expect(table.lookup('x_ai', 'grok-4-0709')!.price.longContext).toEqual([{ aboveTokens: 128_000, input: 6_000_000, output: 30_000_000 }]);
  });
});

describe('PriceTable.mostExpensive', () => {
  it.each([
    ['openai', 'o1-pro', 600_000_000, 150_000_000],
    ['azure.ai.openai', 'gpt-5.4-pro', 180_000_000, 30_000_000],
    ['x_ai', 'grok-3-fast-beta', 25_000_000, 5_000_000],
  ] as const)('%s → %s', (provider, model, output, input) => {
    expect(table.mostExpensive(provider)).toMatchObject({ model, output, input });
  });
});

describe('PriceTable.withOverrides', () => {
  const t = table.withOverrides({
    'openai/gpt-4o-mini': { input: 1, output: 2 },
    'azure.ai.openai/dall-e-3': { per_image: { 'hd/1024-x-1024': 0.1 } },
    'my-model': { input: 3, output: 4, max_output_tokens: 1000 },
  });

  it('changes the named fields, keeps the rest, and marks the source', () => {
    const p = t.lookup('openai', 'gpt-4o-mini')!.price;
    expect(p).toMatchObject({ input: 1_000_000, output: 2_000_000, cachedInput: 75_000, source: 'config', asOf: 'config' });
    expect(p.tiers?.priority?.input).toBe(250_000);
    expect(t.lookup('azure.ai.openai', 'gpt-4o-mini')!.price.input).toBe(165_000);
    expect(t.lookup('azure.ai.openai', 'dall-e-3')!.price.perImage).toMatchObject({ 'hd/1024x1024': 100_000_000_000, 'hd/1024x1792': 120_000_000_000 });
  });

  it('adds an unknown model to every provider for a bare key', () => {
    for (const provider of ['openai', 'azure.ai.openai', 'x_ai'] as const) {
      expect(t.lookup(provider, 'my-model')).toMatchObject({ folded: false, price: { provider, input: 3_000_000, output: 4_000_000, maxOutputTokens: 1000, source: 'config' } });
      expect(t.lookup(provider, 'my-model')!.fallback).toBeUndefined();
    }
  });

  it('leaves the original table alone', () => {
    expect(table.lookup('openai', 'gpt-4o-mini')!.price.input).toBe(150_000);
    expect(table.lookup('openai', 'my-model')).toBeUndefined();
    expect(t.version).toBe(table.version);
  });

  it('rejects a negative or non-numeric price', () => {
    expect(() => table.withOverrides({ 'gpt-4o': { input: -1 } })).toThrow(/input must be a finite number/);
    expect(() => table.withOverrides({ 'gpt-4o': { per_image: { '*': Number.NaN } } })).toThrow(/per_image/);
  });
});
