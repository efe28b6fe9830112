import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runObserved } from '../helpers/observed-run';
import { REPO, runApp } from '../helpers/run-app';

/**
 * Through the wire entry the app reads what it would read without us: the same JSON body, and the
 * same stream bytes, though we asked the stream for usage on the wire (the usage event and the
 * `usage: null` fields it adds are taken out again). Only ids and timestamps differ between runs.
 */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 18 });
});
afterAll(async () => {
  await sim?.close();
});

const APP = resolve(REPO, 'test/fixtures/raw-fetch-app.mjs');
const normal = (text: string) => text.replace(/"id":\s*"[^"]*"/g, '"id":"X"').replace(/"created":\s*\d+/g, '"created":0');

describe('a hand-written fetch under the preload', () => {
  it('reads the same JSON body and the same stream bytes as without it; the call is governed, with the usage we asked for', async () => {
    const env = { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1` };
    const bareRun = await runApp({ script: APP, preload: 'none', env });
    const bare = { stderr: bareRun.stderr, out: JSON.parse(bareRun.stdout.trim().split('\n')[0]) };
    const governed = await runObserved({ script: APP, env });
    expect(governed.code, governed.stderr).toBe(0);
    expect(governed.stderr).toBe(bare.stderr);
    expect(governed.out.jsonStatus).toBe(200);
    expect(normal(governed.out.jsonText)).toBe(normal(bare.out.jsonText));
    expect(governed.out.jsonType).toBe(bare.out.jsonType);
    expect(normal(governed.out.streamText)).toBe(normal(bare.out.streamText));
    expect(governed.out.streamText).not.toContain('"usage"');
    const spans = governed.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat');
    expect(spans).toHaveLength(2);
    const streamed = spans.find((s) => s.attributes['gen_ai.request.stream'] === true)!;
    expect(streamed.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(streamed.attributes['llm_governor.usage.estimated']).not.toBe(true);
    expect(streamed.attributes['gen_ai.response.finish_reasons']).toEqual(['stop']);
  });
});
