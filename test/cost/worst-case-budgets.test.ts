import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { choicesOf, imageTokensUpperBound, mediaParts, worstInputTokens } from '../../src/cost/worst-input';
import { startBillingUpstream } from '../helpers/billing-upstream';
import { REPO, runApp } from '../helpers/run-app';

/**
 * Budgets never overspend, as the provider counts: the worst case we reserve is an upper bound
 * on what the provider can charge, with image inputs at their largest, every answer of `n`, and a
 * margin for a provider that counts more than our tokenizer. Each run ends with the spend the
 * upstream billed at or under the limit.
 */
let upstream: Awaited<ReturnType<typeof startBillingUpstream>>;
beforeAll(async () => {
  upstream = await startBillingUpstream();
});
afterAll(async () => upstream?.close());

const app = resolve(REPO, 'test/fixtures/budget-media-app.cjs');
const quiet = { OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

async function spend(mode: string, limitUsd: number, extra: Record<string, string> = {}) {
  upstream.reset();
  const r = await runApp({ script: app, preload: 'require', env: { ...quiet, BILLING_URL: upstream.url, MODE: mode, LLM_GOVERNOR_DAILY_BUDGET_USD: String(limitUsd), ...extra } });
  expect(r.code, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout.trim().split('\n').pop()!), billed: upstream.billedUsd };
}

describe('budgets hold against what the provider bills', () => {
  it('image inputs on gpt-4o: billed ≤ $0.02', async () => {
    const { out, billed } = await spend('images', 0.02, { CALLS: '30' });
    expect(out.ok).toBeGreaterThan(0);
    expect(out.refused).toBeGreaterThan(0);
    expect(billed).toBeLessThanOrEqual(0.02);
  });

  it('n: 8: billed ≤ $0.005', async () => {
    const { out, billed } = await spend('n', 0.005, { CALLS: '20' });
    expect(out.ok).toBeGreaterThan(0);
    expect(out.refused).toBeGreaterThan(0);
    expect(billed).toBeLessThanOrEqual(0.005);
  });

  it('concurrent calls with images: billed ≤ $0.02', async () => {
    const { out, billed } = await spend('images', 0.02, { CALLS: '40', CONCURRENCY: '10' });
    expect(out.ok + out.refused).toBe(40);
    expect(billed).toBeLessThanOrEqual(0.02);
  });

  it('cap_tokens, with a provider counting more input tokens than our tokenizer: billed ≤ $0.003', async () => {
    const config = resolve(REPO, '.tmp', `cap-${process.pid}.json`);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(resolve(REPO, '.tmp'), { recursive: true });
    writeFileSync(config, JSON.stringify({ budgets: [{ name: 'capped', limit_usd: 0.003, action: 'cap_tokens' }] }));
    upstream.reset();
    const r = await runApp({ script: app, preload: 'require', env: { ...quiet, BILLING_URL: upstream.url, MODE: 'long', CALLS: '5', LLM_GOVERNOR_CONFIG: config } });
    expect(r.code, r.stderr).toBe(0);
    expect(upstream.calls).toBeGreaterThan(0);
    expect(upstream.billedUsd).toBeLessThanOrEqual(0.003);
  });
});

describe('worst-case input tokens (pure)', () => {
  it.each([
    ['gpt-4o', 'high', 85 + 170 * 8],
    ['gpt-4o', 'low', 85],
    ['gpt-4o-2024-08-06', undefined, 85 + 170 * 8],
    ['gpt-4o-mini', 'auto', 2833 + 5667 * 8],
    ['gpt-4.1-mini', 'low', Math.ceil(1536 * 1.62)],
    ['o4-mini', 'high', Math.ceil(1536 * 1.72)],
    ['some-new-vision-model', 'high', 2833 + 5667 * 8],
  ])('an image on %s at detail %s: at most %i tokens', (model, detail, tokens) => {
    expect(imageTokensUpperBound(model, detail)).toBe(tokens);
  });

  it('text gets a margin; media add their worst; the context window caps it', () => {
    const body = {
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'hi' },
            { type: 'image_url', image_url: { url: 'x', detail: 'low' } },
          ],
        },
      ],
    };
    const media = mediaParts(body);
    expect(media.images).toEqual([{ detail: 'low' }]);
    expect(worstInputTokens(100, media, 'gpt-4o', 128000)).toBe(105 + 16 + 85);
    expect(worstInputTokens(200000, media, 'gpt-4o', 128000)).toBe(128000);
    expect(worstInputTokens(10, { images: [], audioBytes: 0, unbounded: true }, 'gpt-4o', 128000)).toBe(128000);
  });

  it('audio from its bytes; files are unbounded', () => {
    const body = {
      messages: [
        {
          role: 'user',
          content: [
            { type: 'input_audio', input_audio: { data: 'A'.repeat(4000), format: 'wav' } },
            { type: 'file', file: { file_id: 'f' } },
          ],
        },
      ],
    };
    const media = mediaParts(body);
    expect(media.audioBytes).toBe(3000);
    expect(media.unbounded).toBe(true);
  });

  it.each([
    [{}, 1],
    [{ n: 8 }, 8],
    [{ n: 2, best_of: 5 }, 5],
    [{ n: 0 }, 1],
  ])('choices of %j: %i', (body, n) => {
    expect(choicesOf(body)).toBe(n);
  });
});
