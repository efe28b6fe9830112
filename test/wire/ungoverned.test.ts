import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runObserved, sumOf } from '../helpers/observed-run';
import { REPO } from '../helpers/run-app';

/** A provider call that no entry governs is never silent: counted by client and host, warned about once. */
let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 16 });
});
afterAll(async () => {
  await sim?.close();
});

describe('ungoverned provider traffic', () => {
  it('a raw http.request to the provider is counted and warned about once; the openai SDK call is governed and not counted', async () => {
    const r = await runObserved({ script: resolve(REPO, 'test/fixtures/raw-http-app.cjs'), env: { SIM_URL: sim.url, OPENAI_BASE_URL: `${sim.url}/v1` } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.out).toEqual({ raw: [200, 200], sdk: true });
    const host = new URL(sim.url).host;
    expect(sumOf(r.samples, 'llm_governor_ungoverned_requests_total', { client: 'axios', host })).toBe(2);
    expect(sumOf(r.samples, 'llm_governor_ungoverned_requests_total')).toBe(2);
    const warnings = r.stderr.split('\n').filter((l) => l.includes('is not governed'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`a call to ${host} by axios`);
    expect(r.stderr).not.toContain('sk-test-raw');
    // The SDK's own call: one span, not counted as ungoverned (openai 6 sends over fetch, inside its call).
    expect(r.spans.filter((s) => s.attributes['gen_ai.operation.name'] === 'chat')).toHaveLength(1);
  });
});
