import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { REPO, runApp } from '../helpers/run-app';

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 41, latencyMs: 30 });
});
afterAll(async () => sim?.close());

/** Runs the breaker app through the preload while the simulator answers its first 3 calls with 500. */
async function runThroughOutage(env: Record<string, string>) {
  sim.reset();
  sim.setFaults([{ kind: '500', count: 3 }]);
  try {
    const r = await runApp({
      script: resolve(REPO, 'test/fixtures/breaker-app.cjs'),
      preload: 'require',
      env: { SIM_URL: sim.url, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', ...env },
    });
    const seen: string[] = JSON.parse(r.stdout.trim().split('\n').pop()!);
    return { r, seen, requests: sim.requests().filter((q) => q.path.endsWith('/chat/completions')).length };
  } finally {
    sim.setFaults([]);
  }
}

describe('circuit breaker through the preload', () => {
  it('opens after the configured failures, fails fast without reaching the server, lets one trial through, and closes', async () => {
    const { r, seen, requests } = await runThroughOutage({ OPENAI_CIRCUIT_BREAKER_FAILURES: '3', OPENAI_CIRCUIT_BREAKER_TIMEOUT: '1', PAUSE_MS: '1200' });
    expect(r.code, r.stderr).toBe(0);
    const open = 'CircuitOpenError:503:circuit_open:true';
    expect(seen.slice(0, 3)).toEqual(Array(3).fill('InternalServerError:500::true'));
    expect(seen.slice(3, 6)).toEqual([open, open, open]);
    expect(seen.slice(6, 8).sort()).toEqual([open, 'ok'].sort()); // exactly one trial while half-open
    expect(seen.slice(8)).toEqual(['ok', 'ok', 'ok']);
    // The server saw the 3 failures, the trial and the 3 calls after: nothing while open.
    expect(requests).toBe(7);
  });

  it('is off with LLM_GOVERNOR_BREAKER_ENABLED=false', async () => {
    const { seen, requests } = await runThroughOutage({ LLM_GOVERNOR_BREAKER_ENABLED: 'false', OPENAI_CIRCUIT_BREAKER_FAILURES: '3', PAUSE_MS: '10' });
    expect(seen.filter((s) => s.startsWith('CircuitOpenError'))).toEqual([]);
    expect(requests).toBe(11);
  });
});
