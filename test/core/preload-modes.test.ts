import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { parsePrometheusText } from '../../src/util/prometheus-text';
import { startOtlpReceiver } from '../helpers/otlp';
import { freePort, REPO, runApp, telemetryEnv } from '../helpers/run-app';

const ESM_APP = resolve(REPO, 'test/fixtures/esm-app.mjs');
const CJS_APP = resolve(REPO, 'test/fixtures/semantics-app.cjs');
const transcript = (out: string) => out.split('\n').filter((l) => l.startsWith('{'));

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 5 });
});
afterAll(async () => sim?.close());

describe('--import (ESM app)', () => {
  it('behaves as without the preload, and exports spans', async () => {
    const otlp = await startOtlpReceiver();
    try {
      const bare = await runApp({ script: ESM_APP, preload: 'none', env: { SIM_URL: sim.url } });
      const run = await runApp({ script: ESM_APP, preload: 'import', env: { SIM_URL: sim.url, ...telemetryEnv(otlp.url) } });
      expect(bare.code).toBe(0);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      expect(transcript(run.stdout)).toEqual(transcript(bare.stdout));
      const providers = otlp.spans.map((s) => s.attributes['gen_ai.provider.name']);
      expect(otlp.spans).toHaveLength(5);
      expect(providers.filter((p) => p === 'azure.ai.openai')).toHaveLength(1);
      const stream = otlp.spans.find((s) => s.attributes['llm_governor.stream'] === true)!;
      expect(stream.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
      expect(stream.attributes['llm_governor.usage.estimated']).toBeUndefined();
    } finally {
      await otlp.close();
    }
  });
});

describe('the Prometheus scrape', () => {
  it('serves the GenAI metrics under the names the exporter really prints', async () => {
    const port = await freePort();
    const otlp = await startOtlpReceiver();
    let scrape = '';
    try {
      const run = await runApp({
        script: ESM_APP,
        preload: 'import',
        env: { SIM_URL: sim.url, WAIT_FOR_SCRAPE: '1', ...telemetryEnv(otlp.url, port) },
        onReady: async (child) => {
          scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          child.stdin!.end();
        },
      });
      expect(run.code).toBe(0);
    } finally {
      await otlp.close();
    }
    const samples = parsePrometheusText(scrape);
    const names = new Set(samples.map((s) => s.name));
    for (const n of ['gen_ai_client_operation_duration_bucket', 'gen_ai_client_operation_duration_count', 'gen_ai_client_token_usage_bucket', 'gen_ai_client_operation_time_to_first_chunk_bucket'])
      expect(names, n).toContain(n);
    const input = samples.filter((s) => s.name === 'gen_ai_client_token_usage_sum' && s.labels.gen_ai_token_type === 'input');
    expect(input.length).toBeGreaterThan(0);
    const chatDuration = samples.find((s) => s.name === 'gen_ai_client_operation_duration_count' && s.labels.gen_ai_provider_name === 'azure.ai.openai')!;
    expect(chatDuration.labels).toMatchObject({ gen_ai_operation_name: 'chat', gen_ai_request_model: 'prod-gpt4o', server_address: '127.0.0.1' });
    const failed = samples.find((s) => s.name === 'gen_ai_client_operation_duration_count' && s.labels.error_type === 'InternalServerError');
    expect(failed?.value).toBe(1);
    // Semconv buckets for durations.
    const les = samples.filter((s) => s.name === 'gen_ai_client_operation_duration_bucket').map((s) => s.labels.le);
    expect(les).toContain('0.01');
    expect(les).toContain('81.92');
    expect(scrape).not.toContain('sk-test-esm');
  });
});

describe('exit behaviour', () => {
  it('flushes spans on SIGTERM and still dies of the signal', async () => {
    const otlp = await startOtlpReceiver();
    try {
      const run = await runApp({
        script: CJS_APP,
        preload: 'require',
        env: { SIM_URL: sim.url, CASES: 'chat', WAIT_FOR_SCRAPE: '1', ...telemetryEnv(otlp.url), OTEL_BSP_SCHEDULE_DELAY: '60000' },
        onReady: async (child) => {
          child.kill('SIGTERM');
        },
      });
      expect(run.signal).toBe('SIGTERM');
      expect(otlp.spans.map((s) => s.name)).toEqual(['chat gpt-4o-mini']);
    } finally {
      await otlp.close();
    }
  });

  it('keeps the app exit code on a normal exit and flushes', async () => {
    const otlp = await startOtlpReceiver();
    try {
      const run = await runApp({ script: CJS_APP, preload: 'require', env: { SIM_URL: sim.url, CASES: 'chat', ...telemetryEnv(otlp.url), OTEL_BSP_SCHEDULE_DELAY: '60000' } });
      expect(run.code).toBe(0);
      expect(otlp.spans).toHaveLength(1);
    } finally {
      await otlp.close();
    }
  });

  it('names a bad variable once, and the app runs on', async () => {
    const run = await runApp({
      script: CJS_APP,
      preload: 'require',
      env: { SIM_URL: sim.url, CASES: 'chat', OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', LLM_GOVERNOR_SDK: 'sometimes' },
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('LLM_GOVERNOR_SDK: expected auto, on or off (got "sometimes")');
    expect(run.stderr.match(/LLM_GOVERNOR_SDK/g)).toHaveLength(1);
    expect(run.stdout).toContain('"case":"chat"');
  });

  it('refuses to start when the config asks to fail closed', async () => {
    const run = await runApp({ script: CJS_APP, preload: 'require', env: { SIM_URL: sim.url, CASES: 'chat', LLM_GOVERNOR_FAIL_CLOSED: 'true', LLM_GOVERNOR_SDK: 'sometimes' } });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('LLM_GOVERNOR_SDK');
    expect(run.stdout).not.toContain('"case":"chat"');
  });
});
