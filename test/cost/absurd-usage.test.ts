import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { suspiciousUsage } from '../../src/cost/usage-check';
import { runObserved, sumOf } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

/**
 * Absurd usage is flagged, not believed: 1e15 tokens, negative or fractional counts from a
 * hostile upstream are recorded as suspicious (span attribute, metric, audit event) and the call
 * is priced at its worst case, within the stores' range; the budget counts it and nothing stays
 * reserved.
 */
let server: Server;
let url: string;
let usage: Record<string, unknown> = {};
beforeAll(async () => {
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-4o-mini-2024-07-18',
          choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
          usage,
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => new Promise((r) => server?.close(r)));

describe('absurd usage from the upstream', () => {
  for (const [name, u, reason] of [
    ['1e15 tokens', { prompt_tokens: 1e15, completion_tokens: 1e15, total_tokens: 2e15 }, 'above_context'],
    ['negative tokens', { prompt_tokens: -50, completion_tokens: -5, total_tokens: -55 }, 'negative'],
    ['fractional tokens', { prompt_tokens: 10.5, completion_tokens: 2, total_tokens: 12.5 }, 'not_integer'],
  ] as const) {
    it(`${name}: flagged ${reason}, priced at the worst case, the budget settled`, async () => {
      usage = u;
      const r = await runObserved({ script: resolve(REPO, 'test/fixtures/resilience-app.cjs'), env: { SIM_URL: url, CALLS: '1', LLM_GOVERNOR_DAILY_BUDGET_USD: '5' } });
      expect(r.code, r.stderr).toBe(0);
      const span = r.spans.find((s) => s.attributes['gen_ai.operation.name'] === 'chat')!;
      expect(span.attributes['llm_governor.usage.suspicious']).toBe(reason);
      expect(span.attributes['llm_governor.cost.estimated']).toBe(true);
      const cost = span.attributes['llm_governor.cost.usd'] as number;
      // gpt-4o-mini, max_tokens 20: the worst case is a fraction of a cent, never $750,000,000 or $0.
      expect(cost).toBeGreaterThan(0);
      expect(cost).toBeLessThan(0.01);
      expect(sumOf(r.samples, 'llm_governor_usage_suspicious_total', { reason })).toBe(1);
      expect(sumOf(r.samples, 'llm_governor_budget_spent')).toBeCloseTo(cost, 12);
      expect(sumOf(r.samples, 'llm_governor_budget_reserved')).toBe(0);
      expect(r.logs.some((l) => l.attributes['llm_governor.audit.kind'] === 'usage_suspicious')).toBe(true);
    });
  }
});

describe('suspiciousUsage', () => {
  it.each([
    [{ inputTokens: 10, outputTokens: 5 }, {}, undefined],
    [{ inputTokens: -1 }, {}, 'negative'],
    [{ inputTokens: 1.5 }, {}, 'not_integer'],
    [{ inputTokens: Number.NaN }, {}, 'not_integer'],
    [{ inputTokens: 200_000 }, { maxInput: 128_000 }, 'above_context'],
    [{ outputTokens: 20_000 }, { maxOutput: 16_384 }, 'above_context'],
    [{ outputTokens: 20_000 }, { maxOutput: 16_384, choices: 2 }, undefined],
    [{ inputTokens: 10, cachedInputTokens: 20 }, {}, 'above_context'],
    [{ inputTokens: 1e12 }, {}, 'above_context'],
  ])('%j within %j: %s', (usage, limits, reason) => {
    expect(suspiciousUsage(usage, limits)).toBe(reason);
  });
});
