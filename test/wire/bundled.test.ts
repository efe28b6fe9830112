import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runObserved } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

/**
 * openai bundled into the app with esbuild: no `require` hook sees it, and its calls reach the
 * provider through the process's fetch, where the wire entry governs them.
 */
let sim: Simulator;
let dir: string;
let bundle: string;
beforeAll(async () => {
  sim = await startSimulator({ seed: 17 });
  dir = mkdtempSync(join(tmpdir(), 'llm-governor-bundle-'));
  bundle = join(dir, 'app.js');
  await build({ entryPoints: [resolve(REPO, 'test/fixtures/bundled-openai-app.cjs')], bundle: true, platform: 'node', target: 'node20', outfile: bundle, logLevel: 'silent' });
});
afterAll(async () => {
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an app bundled with esbuild (openai 6 inside the bundle)', () => {
  it('is governed through fetch: one span per call, usage from the provider, the stream too', async () => {
    const r = await runObserved({ script: bundle, cwd: dir, env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.error).toBeUndefined();
    const chats = r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(chats).toHaveLength(2);
    const plain = chats.find((s) => s.attributes['gen_ai.request.stream'] !== true)!;
    expect(plain.attributes['gen_ai.usage.input_tokens']).toBe(r.out.usage.prompt_tokens);
    expect(plain.attributes['llm_governor.cost.usd']).toBeGreaterThan(0);
    const streamed = chats.find((s) => s.attributes['gen_ai.request.stream'] === true)!;
    expect(streamed.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(streamed.attributes['llm_governor.usage.estimated']).not.toBe(true);
    expect(r.out.streamText.length).toBeGreaterThan(0);
  });

  it('a blocking budget: the bundled SDK raises its own APIError with our code, once (x-should-retry: false), nothing sent', async () => {
    const before = sim.requests().length;
    const r = await runObserved({ script: bundle, cwd: dir, env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1`, LLM_GOVERNOR_DAILY_BUDGET_USD: '0.000001' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out.error).toMatchObject({ status: 429, code: 'budget_exceeded', isApiError: true });
    expect(r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat')).toHaveLength(1);
    expect(sim.requests().length).toBe(before);
  });
});
