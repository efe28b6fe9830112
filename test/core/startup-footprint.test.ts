import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index';
import { runApp } from '../helpers/run-app';

/**
 * Start-up loads only what the config uses: with the defaults, an app under the preload never
 * loads ioredis (no Redis URL), and our own config loader never loads a YAML parser for a JSON
 * file. (The OpenTelemetry SDK's own configuration still loads `yaml`.)
 */
const APP = `const { OpenAI } = require('openai');
const client = new OpenAI({ apiKey: 'sk-test-footprint-0123456789', baseURL: process.env.SIM_URL + '/v1' });
client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5 }).then(() => {
const loaded = Object.keys(require.cache).filter((k) => k.includes('node_modules/ioredis/'));
console.log(JSON.stringify({ ioredis: loaded.length }));
});`;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seed: 3 });
});
afterAll(async () => sim?.close());

describe('start-up footprint', () => {
  it('no ioredis without a Redis URL, even with budgets and a rate limit, after a call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'footprint-'));
    const script = join(dir, 'app.cjs');
    writeFileSync(script, APP);
    const r = await runApp({
      script,
      preload: 'require',
      env: { SIM_URL: sim.url, NODE_PATH: join(__dirname, '../../node_modules'), OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', LLM_GOVERNOR_DAILY_BUDGET_USD: '5', LLM_GOVERNOR_RATE_LIMIT_RPM: '100' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ ioredis: 0 });
  });
});
