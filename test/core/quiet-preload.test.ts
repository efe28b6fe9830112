import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { freePort, REPO, runApp, type AppRun } from '../helpers/run-app';
import { expectSameTranscript } from '../helpers/transcript';
import { startTokenServer } from '../helpers/token-server';
import { startUsageStreamServer } from '../helpers/usage-stream-server';

/**
 * A quiet preload: an app's stdout and stderr are what they were without us. Each fixture app
 * runs bare and under the preload with no telemetry settings at all (as a team first tries it:
 * no Collector listening, the SDK's exports failing), and its transcript is the same, but for our
 * documented warnings. OTEL_LOG_LEVEL turns the SDK's own lines on; LLM_GOVERNOR_DISABLED
 * silences everything, even a broken config.
 */
let sim: Simulator;
let tokens: Awaited<ReturnType<typeof startTokenServer>>;
let streams: Awaited<ReturnType<typeof startUsageStreamServer>>;
beforeAll(async () => {
  sim = await startSimulator({ seed: 21 });
  tokens = await startTokenServer();
  streams = await startUsageStreamServer();
});
afterAll(async () => {
  await sim?.close();
  await tokens?.close();
  await streams?.close();
});

const fixture = (name: string) => resolve(REPO, 'test/fixtures', name);

/** No OTEL_* settings but a port of its own for /metrics (parallel tests), as a first try would be. */
async function untuned(extra: Record<string, string> = {}): Promise<Record<string, string | undefined>> {
  const env: Record<string, string | undefined> = { OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()), ...extra };
  for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_') && !(k in env)) env[k] = undefined;
  return env;
}

async function both(script: string, env: Record<string, string>, preload: 'require' | 'import' = 'require'): Promise<[AppRun, AppRun]> {
  sim.reset();
  tokens.reset();
  const bare = await runApp({ script, preload: 'none', env: { ...(await untuned()), ...env } });
  sim.reset();
  tokens.reset();
  const governed = await runApp({ script, preload, env: { ...(await untuned()), ...env } });
  return [bare, governed];
}

const lines = (s: string) =>
  s
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

describe('the preload leaves an app’s stdout and stderr as they were', () => {
  const apps: Array<{ name: string; env: () => Record<string, string>; transcript?: boolean; preload?: 'import' }> = [
    { name: 'semantics-app.cjs', env: () => ({ SIM_URL: sim.url, XAI_API_ENDPOINT: sim.xaiBaseURL }), transcript: true },
    { name: 'esm-app.mjs', env: () => ({ SIM_URL: sim.url }), preload: 'import' },
    { name: 'helpers-app.cjs', env: () => ({ SIM_URL: sim.url }), transcript: true },
    { name: 'token-refresh-app.cjs', env: () => ({ SERVER_URL: tokens.url }) },
    { name: 'chunks-app.cjs', env: () => ({ SERVER_URL: streams.url }) },
    { name: 'audit-otlp-app.cjs', env: () => ({ SIM_URL: sim.url, MODE: 'short', LLM_GOVERNOR_AUDIT_FILE: join(mkdtempSync(join(tmpdir(), 'quiet-')), 'audit.jsonl') }) },
  ];
  for (const a of apps) {
    it(a.name, async () => {
      const [bare, governed] = await both(fixture(a.name), a.env(), a.preload);
      expect(governed.code, governed.stderr).toBe(bare.code);
      expect(governed.stderr).toBe(bare.stderr);
      if (a.transcript) expectSameTranscript(lines(bare.stdout), lines(governed.stdout));
      else expect(governed.stdout).toBe(bare.stdout);
    }, 60_000);
  }

  it('under load (200 concurrent calls, retried faults, a shared queue): nothing of ours on stderr', async () => {
    const script = join(mkdtempSync(join(tmpdir(), 'quiet-load-')), 'load.cjs');
    writeFileSync(
      script,
      `const mod = require(${JSON.stringify(resolve(REPO, 'node_modules/openai'))});
const OpenAI = mod.OpenAI ?? mod.default ?? mod;
const client = new OpenAI({ apiKey: 'sk-test-load-0123456789', baseURL: process.env.SIM_URL + '/v1', maxRetries: 2 });
const faults = ['500', '429', 'reset', ''];
Promise.all(Array.from({ length: 200 }, (_, i) => client.chat.completions.create(
  { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi ' + i }], max_tokens: 5, stream: i % 2 === 0 },
  { headers: faults[i % 4] ? { 'x-simulator-fault': faults[i % 4] + ';retry-after=0' } : {} },
).then(async (r) => { if (r.controller) for await (const _ of r); return 'ok'; }, (e) => e.constructor.name))).then((r) => console.log(JSON.stringify(r.sort())));
`,
    );
    const [bare, governed] = await both(script, { SIM_URL: sim.url, LLM_GOVERNOR_RATE_LIMIT_RPM: '100000', LLM_GOVERNOR_DAILY_BUDGET_USD: '100', LLM_GOVERNOR_BREAKER_ENABLED: 'false' });
    expect(bare.code).toBe(0);
    expect(governed.code, governed.stderr).toBe(0);
    expect(governed.stderr).toBe(bare.stderr);
    expect(governed.stdout).toBe(bare.stdout);
  }, 60_000);
});

describe('what the preload does say', () => {
  it('LLM_GOVERNOR_DISABLED: nothing at all, even with invalid settings', async () => {
    const [bare, governed] = await both(
      fixture('esm-app.mjs'),
      { SIM_URL: sim.url, LLM_GOVERNOR_DISABLED: 'yes', LLM_GOVERNOR_MAX_RETRIES: 'plenty', LLM_GOVERNOR_DAILY_BUDGET_USD: 'lots' },
      'import',
    );
    expect(governed.stderr).toBe(bare.stderr);
    expect(governed.stdout).toBe(bare.stdout);
  });

  it('an invalid setting: our warning, named, once', async () => {
    const [bare, governed] = await both(fixture('esm-app.mjs'), { SIM_URL: sim.url, LLM_GOVERNOR_MAX_RETRIES: 'plenty' }, 'import');
    expect(governed.stdout).toBe(bare.stdout);
    const ours = governed.stderr.split('\n').filter((l) => l.includes('LLM_GOVERNOR_MAX_RETRIES'));
    expect(ours).toHaveLength(1);
    expect(governed.stderr.startsWith('llm-governor:')).toBe(true);
  });

  it('OTEL_LOG_LEVEL turns the OpenTelemetry SDK’s own lines on', async () => {
    const governed = await runApp({ script: fixture('esm-app.mjs'), preload: 'import', env: { ...(await untuned({ OTEL_LOG_LEVEL: 'debug' })), SIM_URL: sim.url } });
    expect(governed.code).toBe(0);
    expect(governed.stdout.length + governed.stderr.length).toBeGreaterThan(0);
    expect(`${governed.stdout}\n${governed.stderr}`).toMatch(/items to be sent|export|Exporter|OTLP/i);
  });
});
