import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runObserved, sumOf } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

/** The response cache on the wire entry: the AI SDK's second identical call is answered from it, sent nowhere and charged nothing. */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 161 });
});
afterAll(async () => {
  await sim?.close();
});

describe.each(['require', 'import'] as const)('the response cache for the AI SDK under --%s', (preload) => {
  it('a repeat of the same generateText is a hit: one request sent, the same answer, no cost', async () => {
    const before = sim.requests().length;
    const r = await runObserved({
      script: resolve(REPO, 'test/fixtures/ai-sdk-app.mjs'),
      preload,
      env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1`, PROVIDER: 'openai', MODE: 'errors', CALLS: '2', LLM_GOVERNOR_CACHE: 'on' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.errors).toEqual([null, null]);
    expect(sim.requests().length - before).toBe(1);
    const chats = r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(chats.map((s) => s.attributes['llm_governor.cache.hit'] === true)).toEqual([false, true]);
    expect(chats[1].attributes['llm_governor.cost.usd']).toBe(0);
    expect(sumOf(r.samples, 'llm_governor_cache_requests_total', { result: 'hit' })).toBe(1);
    expect(sumOf(r.samples, 'llm_governor_cache_requests_total', { result: 'miss' })).toBe(1);
  });
});
